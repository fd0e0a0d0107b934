package io.thinkstream.sampler;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import io.thinkstream.model.Generation;
import io.thinkstream.model.Generator;
import io.thinkstream.model.SamplingParams;
import java.util.ArrayList;
import java.util.List;

/**
 * The policy in this process: a {@link Generator} over the {@link LivePolicy}'s current version,
 * held for the whole batch so that a hot reload can never free weights a batch still reads.
 */
public final class DjlBackend implements SamplerBackend {
  private final LivePolicy policy;

  public DjlBackend(LivePolicy policy) {
    this.policy = policy;
  }

  public LivePolicy policy() {
    return policy;
  }

  @Override
  public Batch generate(List<Request> requests, SamplingParams params) {
    noGradients();
    try (LivePolicy.Lease lease = policy.acquire()) {
      LivePolicy.Version v = lease.version();
      List<Generator.Request> batch = new ArrayList<>(requests.size());
      List<int[]> prompts = new ArrayList<>(requests.size());
      for (Request r : requests) {
        int[] ids = r.prompt().ids(v.tokenizer());
        prompts.add(ids);
        batch.add(new Generator.Request(ids, r.seed()));
      }
      List<Generation> generations = new Generator(v.model(), v.tokenizer()).generate(batch, params);
      List<Completion> out = new ArrayList<>(generations.size());
      for (int i = 0; i < generations.size(); i++) {
        Generation g = generations.get(i);
        int completion = g.finish() == Generation.Finish.STOP_TOKEN ? g.tokens().length - 1 : g.tokens().length;
        out.add(new Completion(g.text(), g.sumLogProb(), prompts.get(i), prompts.get(i).length, completion));
      }
      return new Batch(v.number(), out);
    }
  }

  @Override
  public int eosId() {
    try (LivePolicy.Lease lease = policy.acquire()) {
      return lease.version().tokenizer().eosId();
    }
  }

  /**
   * Sampling never needs gradients, and libtorch's grad mode is per thread: switch it off on the
   * calling (sampler) thread so no autograd graph is recorded even if some weight requires grad.
   */
  private static void noGradients() {
    if ("PyTorch".equals(Engine.getInstance().getEngineName()) && JniUtils.isGradMode()) {
      JniUtils.setGradMode(false);
    }
  }

  @Override
  public void close() {
    policy.close();
  }
}
