package io.thinkstream.sampler;

import io.thinkstream.model.SamplingParams;
import java.util.List;

/**
 * Where completions come from: the policy in this process ({@link DjlBackend}) or an
 * OpenAI-compatible server ({@link OpenAiHttpBackend}). One call is one batch, run by one policy
 * version, which the result names so that every sample carries the version that made it.
 */
public interface SamplerBackend extends AutoCloseable {
  /** One sequence to continue: what it continues and the seed its tokens are drawn with. */
  record Request(Prompt prompt, long seed) {}

  /**
   * One continuation: its text (specials and stop token left out), the policy's log-probability
   * of its tokens, and the prompt as fed to the model ({@code promptIds} is empty for a backend
   * that sends text; {@code promptTokens} then comes from the server).
   */
  record Completion(String text, double sumLogProb, int[] promptIds, int promptTokens, int completionTokens) {}

  /** The completions of one call, in request order, and the policy version that made them. */
  record Batch(long policyVersion, List<Completion> completions) {
    public Batch {
      completions = List.copyOf(completions);
    }
  }

  /** Continues every request with {@code params}; stop tokens in {@code params} are the caller's. */
  Batch generate(List<Request> requests, SamplingParams params);

  /** The end-of-sequence token id of the current policy, or -1 when the backend stops by itself. */
  int eosId();

  @Override
  default void close() {}
}
