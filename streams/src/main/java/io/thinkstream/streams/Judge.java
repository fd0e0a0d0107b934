package io.thinkstream.streams;

import java.util.Optional;

/**
 * Scores one response to a prompt (Thought Preference Optimization's judge). A judge is shown the
 * response only — the text after the thought — never the thought itself, so that the policy is
 * rewarded for answers and left free to think as it likes. Implementations must be thread-safe.
 */
public interface Judge {
  /** A short stable name, written into JUDGE rewards (e.g. {@code verifier}, {@code http:model}). */
  String id();

  /** Judges {@code response}; {@code gold} is the reference answer when the problem has one. */
  Judgement judge(String prompt, String response, Optional<String> gold);

  /** What a judge said: a score (higher is better) or output that could not be read as one. */
  sealed interface Judgement permits Scored, Unparseable {}

  record Scored(double score) implements Judgement {}

  record Unparseable(String output) implements Judgement {}
}
