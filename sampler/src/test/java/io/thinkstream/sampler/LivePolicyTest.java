package io.thinkstream.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.thinkstream.model.Generator;
import io.thinkstream.model.ModelConfig;
import io.thinkstream.model.SamplingParams;
import io.thinkstream.model.SyntheticTokenizer;
import io.thinkstream.model.Transformer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A swap never frees a version a batch still holds, and frees it once the last lease closes. */
class LivePolicyTest {
  private static final SyntheticTokenizer TOK = new SyntheticTokenizer(2);

  private static Transformer tiny(long seed) {
    return Transformer.init(ModelConfig.tiny(TOK.vocabSize()), Device.cpu(), DataType.FLOAT32, seed);
  }

  @Test
  void aReplacedVersionStaysUsableUntilItsLeaseCloses() {
    Transformer old = tiny(1);
    LivePolicy policy = new LivePolicy(new LivePolicy.Version(old, TOK, 0));
    try (LivePolicy.Lease lease = policy.acquire()) {
      policy.swap(new LivePolicy.Version(tiny(2), TOK, 1));
      assertEquals(1, policy.version());
      // the held weights still run after the swap
      List<?> out = new Generator(lease.version().model(), TOK)
          .generate(List.of(new Generator.Request(TOK.encodeAfterBos("Ann"), 3)), SamplingParams.greedy(4, TOK.eosId()));
      assertEquals(1, out.size());
      assertEquals(true, old.managedArrayCount() > 0, "not freed while leased");
    }
    assertEquals(0, old.managedArrayCount(), "freed when the last lease closed");
    try (LivePolicy.Lease lease = policy.acquire()) {
      assertEquals(1, lease.version().number());
    }
    policy.close();
  }
}
