package io.thinkstream.streams.internal;

import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.streams.processor.api.ProcessorContext;

/**
 * A count of something the topology drops or gives up on (an evicted search, a judge that never
 * answered), as a Kafka Streams metric {@code <name>-total} / {@code <name>-rate} in group
 * {@code stream-thinkstream-metrics}, tagged with the task: visible through
 * {@code KafkaStreams.metrics()} and JMX without anything else to run.
 */
final class Counter {
  private final Sensor sensor;

  Counter(ProcessorContext<?, ?> context, String name) {
    this.sensor = context.metrics().addRateTotalSensor("thinkstream", "rewards", name,
        Sensor.RecordingLevel.INFO, "task-id", context.taskId().toString());
  }

  void increment() {
    sensor.record();
  }
}
