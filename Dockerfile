# One image for every thinkstream process; docker-compose.yml picks the subcommand.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests install

FROM eclipse-temurin:17-jre
WORKDIR /opt/thinkstream
COPY --from=build /src/app/target/thinkstream.jar ./thinkstream.jar
COPY --from=build /src/app/target/lib ./lib
ENTRYPOINT ["java", "-jar", "/opt/thinkstream/thinkstream.jar"]
CMD ["--help"]
