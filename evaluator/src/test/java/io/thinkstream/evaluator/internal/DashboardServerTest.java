package io.thinkstream.evaluator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.avro.Checkpoint;
import io.thinkstream.avro.Evaluation;
import io.thinkstream.avro.OffsetRange;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.avro.Sample;
import io.thinkstream.avro.SampleTimings;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dashboard's HTTP side over a state fed by hand: page, assets, API, lineage and SSE under load. */
class DashboardServerTest {
  private static final Instant T = Instant.parse("2026-01-02T03:04:05Z");
  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private RunState state;
  private LiveEvents live;
  private DashboardServer server;

  @BeforeEach
  void start() {
    state = new RunState(100);
    live = new LiveEvents(json);
    state.add(Problem.newBuilder().setId("p1").setSource("synthetic").setQuestion("Mia has 3 coins and finds 4.")
        .setGoldAnswer("7").setTask("arithmetic").setCreatedAt(T).build());
    state.add(Sample.newBuilder().setSampleId("s1").setProblemId("p1").setPolicyVersion(1).setStrategy("<think1>")
        .setPrompt("q").setSteps(List.of("3+4=7")).setAnswer("#### 7").setSumLogProb(-1).setSeed(1).setSamplerId("t")
        .setTimings(new SampleTimings(0L, 0L, 0, 0)).setCreatedAt(T).build(), 0, 5, T.toEpochMilli());
    state.add(Reward.newBuilder().setSampleId("s1").setProblemId("p1").setKind(RewardKind.OUTCOME).setValue(1)
        .setCreatedAt(T).build(), T.toEpochMilli());
    state.add(PreferencePair.newBuilder().setPairId("pair-1").setProblemId("p1").setKind(PairKind.OUTCOME).setPrompt("q")
        .setChosen("#### 7").setRejected("#### 8").setPolicyVersion(1).setMargin(1).setSourceSampleIds(List.of("s1", "s2"))
        .setCreatedAt(T).build(), "x.preferences", 1, 41, T.toEpochMilli());
    // v2 trained on preferences p1 [40, 42): it covers the pair at offset 41; v3 on [42, 50) does not.
    state.add(checkpoint(2, 40, 42));
    state.add(checkpoint(3, 42, 50));
    state.add(evaluation(2));
    server = new DashboardServer("127.0.0.1", 0, "exp1 <run>", "x.", state, live, List::of, json).start();
  }

  @AfterEach
  void stop() {
    server.close();
    live.close();
  }

  @Test
  void thePageNamesTheRunAndEveryAssetComesFromTheJar() throws Exception {
    HttpResponse<String> page = get("/");
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("<title>thinkstream · exp1 &lt;run&gt;</title>"), page.body());
    assertTrue(!page.body().contains("http://") && !page.body().contains("https://"), "no asset from a CDN");
    String chart = page.body().replaceAll("(?s).*<script src=\"(/webjars/chart.js/[^\"]+)\".*", "$1");
    HttpResponse<String> lib = get(chart);
    assertEquals(200, lib.statusCode(), chart);
    assertTrue(lib.body().contains("Chart"), chart);
    assertEquals(200, get("/static/dashboard.js").statusCode());
    assertEquals(200, get("/static/dashboard.css").statusCode());
  }

  @Test
  void lineageListsSamplesRewardsPairsAndTheCheckpointsTrainedOnThem() throws Exception {
    JsonNode l = json.readTree(get("/api/lineage/p1").body());
    assertEquals("7", l.get("gold").asText());
    assertEquals("s1", l.get("samples").get(0).get("sampleId").asText());
    assertEquals("OUTCOME", l.get("rewards").get(0).get("kind").asText());
    assertEquals("pair-1", l.get("pairs").get(0).get("pairId").asText());
    assertEquals("[2]", l.get("pairs").get(0).get("trainedIn").toString());
    assertEquals(1, l.get("checkpoints").size());
    assertEquals(2, l.get("checkpoints").get(0).get("version").asLong());
    assertEquals(404, get("/api/lineage/nope").statusCode());
  }

  /** Open pages hold no server thread: 48 SSE clients (the pool has 32 threads) and the API still answers. */
  @Test
  void openEventStreamsDoNotStarveOtherRequests() throws Exception {
    List<BufferedReader> streams = new ArrayList<>();
    List<CompletableFuture<HttpResponse<InputStream>>> opening = new ArrayList<>();
    for (int i = 0; i < 48; i++) {
      opening.add(http.sendAsync(HttpRequest.newBuilder(uri("/events")).header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream()));
    }
    for (var f : opening) {
      BufferedReader r = new BufferedReader(new InputStreamReader(f.get(10, TimeUnit.SECONDS).body(), StandardCharsets.UTF_8));
      assertEquals("event: hello", r.readLine());
      streams.add(r);
    }
    long start = System.nanoTime();
    HttpResponse<String> s = get("/api/state");
    assertEquals(200, s.statusCode());
    assertTrue(System.nanoTime() - start < 5_000_000_000L, "the API waited behind the event streams");
    JsonNode body = json.readTree(s.body());
    assertEquals(48, body.get("liveClients").asInt());
    assertEquals(1, body.get("evaluations").size());

    live.send("evaluation", state.add(evaluation(3)));
    BufferedReader one = streams.get(17);
    String line;
    do {
      line = one.readLine();
    } while (line != null && !line.startsWith("event: evaluation"));
    assertEquals("event: evaluation", line);
    assertTrue(one.readLine().contains("\"version\":3"));
    for (BufferedReader r : streams) {
      r.close();
    }
  }

  private static Checkpoint checkpoint(long version, long start, long end) {
    return Checkpoint.newBuilder().setVersion(version).setUri("/ckpt/v" + version).setSha256("ab")
        .setConsumedOffsets(List.of(new OffsetRange("x.preferences", 1, start, end))).setCreatedAt(T).build();
  }

  private static Evaluation evaluation(long version) {
    return Evaluation.newBuilder().setVersion(version).setSuite("synthetic").setN(10).setK(4).setGreedyPass1(0.5)
        .setMajK(0.6).setPassK(0.8).setDiversity(1.5).setPerStrategyAccuracy(Map.of("<think1>", 0.5))
        .setCreatedAt(T).build();
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
