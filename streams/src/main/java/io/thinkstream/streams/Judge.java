package io.thinkstream.streams;

import java.util.Optional;

/**
 * Scores one response to a prompt (Thought Preference Optimization's judge). A judge is shown the
 * response only — the text after the thought — never the thought itself, so that the policy is
 * rewarded for answers and left free to think as it likes. Implementations must be thread-safe:
 * the {@link JudgeWorker} calls one judge from several threads, never from a stream thread.
 */
public interface Judge {
  /** A short stable name, written into JUDGE rewards (e.g. {@code verifier}, {@code http:model}). */
  String id();

  /** Judges {@code response}; {@code gold} is the reference answer when the problem has one. */
  Judgement judge(String prompt, String response, Optional<String> gold);

  /**
   * What a judge said: a score (higher is better), output that could not be read as one, or no
   * answer at all (the endpoint failed: worth a retry, and counted by the circuit breaker).
   */
  sealed interface Judgement permits Scored, Unparseable, Failed {}

  record Scored(double score) implements Judgement {}

  record Unparseable(String output) implements Judgement {}

  record Failed(String reason) implements Judgement {}
}
