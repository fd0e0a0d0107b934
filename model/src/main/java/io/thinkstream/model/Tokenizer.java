package io.thinkstream.model;

import io.thinkstream.schemas.text.PromptFormat;

/**
 * Text to token ids and back. Encoding never adds special tokens: callers place {@code <bos>},
 * strategy tags and {@code <eos>} themselves so prompts, tags and completions line up exactly.
 */
public interface Tokenizer {
  int[] encode(String text);

  /** Decodes ids, leaving out special tokens (bos, eos, pad) when {@code skipSpecial}. */
  String decode(int[] ids, boolean skipSpecial);

  int vocabSize();

  int bosId();

  int eosId();

  int padId();

  /** The id of one token spelled exactly {@code token} (e.g. {@code "<think2>"}), or -1. */
  int tokenId(String token);

  /**
   * How every sequence starts: {@code <bos>} when the tokenizer has one (a negative id means it has
   * none, and then nothing is prepended), followed by {@code text}, e.g. a {@code PromptFormat} prompt.
   */
  default int[] encodeAfterBos(String text) {
    int[] body = encode(text);
    if (bosId() < 0) {
      return body;
    }
    int[] out = new int[body.length + 1];
    out[0] = bosId();
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }

  /**
   * The single-turn prompt the policy is trained on and sampled from: {@code <bos>} and
   * {@link PromptFormat#prompt}(question, tag); {@code tag} may be null (untagged), else it must
   * be one token of this tokenizer.
   */
  default int[] encodePrompt(String question, String tag) {
    if (tag != null && tokenId(tag) < 0) {
      throw new IllegalArgumentException("strategy tag " + tag + " is not a token of the tokenizer");
    }
    return encodeAfterBos(PromptFormat.prompt(question, tag));
  }
}
