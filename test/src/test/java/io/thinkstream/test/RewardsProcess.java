package io.thinkstream.test;

import io.thinkstream.schemas.Topics;
import io.thinkstream.streams.RewardsApp;
import io.thinkstream.streams.RewardsConfig;
import java.util.Map;

/**
 * The rewards application alone in a JVM, so that a test can kill it (SIGKILL: no close, no
 * commit) rather than close it. Arguments: bootstrap, topic prefix, state dir, K, judge group.
 */
public final class RewardsProcess {
  private RewardsProcess() {}

  public static void main(String[] args) throws Exception {
    RewardsApp.start(RewardsApp.Config.of(args[0], Topics.withPrefix(args[1]), Map.of(
        RewardsConfig.APPLICATION_ID, "rewards-kill", RewardsConfig.STATE_DIR, args[2],
        RewardsConfig.EXPECTED_K, Integer.parseInt(args[3]), RewardsConfig.GROUP_TIMEOUT_MS, 600_000L,
        RewardsConfig.JUDGE_WORKER_GROUP_ID, args[4]), Map.of()));
    System.out.println("started");
    Thread.sleep(Long.MAX_VALUE);
  }
}
