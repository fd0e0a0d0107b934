package io.thinkstream.model;

import io.thinkstream.schemas.text.PromptFormat;
import io.thinkstream.tasks.SyntheticProblems;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The built-in tokenizer of the synthetic arithmetic task: every word the problem generator
 * writes is one token (with and without a leading space), digits and punctuation are single
 * characters, so numbers are spelled digit by digit — a tiny model learns arithmetic that way.
 *
 * <p>Specials: {@code <pad>} (id 0), {@code <bos>}, {@code <eos>}, {@code <unk>}, then the strategy
 * tags {@code <think1>}…{@code <thinkN>}. Any printable ASCII character has a token, so only
 * non-ASCII text falls back to {@code <unk>}.
 */
public final class SyntheticTokenizer implements Tokenizer {
  public static final String PAD = "<pad>";
  public static final String BOS = "<bos>";
  public static final String EOS = "<eos>";
  public static final String UNK = "<unk>";

  /** Words of the generator's sentences besides the word lists it exports. */
  private static final List<String> WORDS = List.of(
      "has", "have", "buys", "with", "in", "each", "finds", "more", "gives", "loses", "Then", "the", "number",
      "of", "doubles", "triples", "becomes", "times", "as", "large", "shares", "equally", "among", "and",
      "keeps", "one", "bag", "How", "many", "does", "now", "She", "He", "she", "he", "In", "all", "gets",
      "away", "The", "net", "gain", "loss", "is", "answer", "Question", "Answer");
  private static final List<String> SYMBOLS = List.of("####", "<<", ">>");

  private final List<String> pieces = new ArrayList<>();
  private final Map<String, Integer> ids = new HashMap<>();
  private final Set<String> specials = new LinkedHashSet<>();
  private final int strategies;

  public SyntheticTokenizer(int strategies) {
    if (strategies < 0 || strategies > 64) {
      throw new IllegalArgumentException("strategy tags must be in [0, 64], got " + strategies);
    }
    this.strategies = strategies;
    for (String s : List.of(PAD, BOS, EOS, UNK)) {
      specials.add(add(s));
    }
    for (int i = 1; i <= strategies; i++) {
      specials.add(add(PromptFormat.tag(i)));
    }
    add("\n");
    for (char c = 32; c < 127; c++) {
      add(String.valueOf(c));
    }
    SYMBOLS.forEach(this::add);
    List<String> words = new ArrayList<>(WORDS);
    words.addAll(SyntheticProblems.NAMES);
    words.addAll(SyntheticProblems.ITEMS);
    words.addAll(SyntheticProblems.CONTAINERS);
    words.addAll(SyntheticProblems.PEOPLE);
    for (String w : words) {
      add(w);
      add(" " + w);
    }
  }

  public int strategies() {
    return strategies;
  }

  private String add(String piece) {
    ids.computeIfAbsent(piece, p -> {
      pieces.add(p);
      return pieces.size() - 1;
    });
    return piece;
  }

  @Override
  public int[] encode(String text) {
    List<Integer> out = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (i < n) {
      String match = special(text, i);
      if (match == null) {
        match = word(text, i);
      }
      final int at = i;
      if (match == null) {
        match = SYMBOLS.stream().filter(s -> text.startsWith(s, at)).findFirst().orElse(null);
      }
      if (match == null) {
        match = text.substring(i, i + 1);
      }
      Integer id = ids.get(match);
      out.add(id == null ? ids.get(UNK) : id);
      i += match.length();
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  private String special(String text, int i) {
    if (text.charAt(i) != '<') {
      return null;
    }
    for (String s : specials) {
      if (text.startsWith(s, i)) {
        return s;
      }
    }
    return null;
  }

  /** The longest letter run at i, with its leading space if any, when it is a vocabulary word. */
  private String word(String text, int i) {
    int start = text.charAt(i) == ' ' ? i + 1 : i;
    int end = start;
    while (end < text.length() && Character.isLetter(text.charAt(end)) && text.charAt(end) < 128) {
      end++;
    }
    if (end == start) {
      return null;
    }
    String candidate = text.substring(i, end);
    return ids.containsKey(candidate) ? candidate : null;
  }

  @Override
  public String decode(int[] tokens, boolean skipSpecial) {
    StringBuilder sb = new StringBuilder();
    for (int id : tokens) {
      if (id < 0 || id >= pieces.size()) {
        throw new IllegalArgumentException("token id " + id + " outside vocabulary of " + pieces.size());
      }
      String piece = pieces.get(id);
      if (!(skipSpecial && specials.contains(piece))) {
        sb.append(piece);
      }
    }
    return sb.toString();
  }

  /**
   * This vocabulary as a Hugging Face {@code tokenizer.json} that encodes every text to the same ids:
   * the specials are added tokens; a regex pre-tokenizer isolates a whole letter run that is a
   * vocabulary word (with its leading space when that is one too), then {@code ####}, {@code <<},
   * {@code >>}, a newline, or any single character; a word-level model maps each piece to its id
   * ({@code <unk>} otherwise) and the {@code Fuse} decoder joins pieces without spaces.
   */
  public com.fasterxml.jackson.databind.node.ObjectNode toHfJson() {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    com.fasterxml.jackson.databind.node.ArrayNode added = root.putArray("added_tokens");
    for (String special : specials) {
      added.addObject().put("id", ids.get(special)).put("content", special).put("single_word", false)
          .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
    }
    root.putNull("normalizer");
    StringBuilder words = new StringBuilder();
    for (String piece : pieces) {
      if (piece.length() > 1 && piece.chars().allMatch(c -> c < 128 && Character.isLetter(c))) {
        words.append(words.length() == 0 ? "" : "|").append(piece);
      }
    }
    String pattern = " ?(?:" + words + ")(?![A-Za-z])|####|<<|>>|\n|.";
    com.fasterxml.jackson.databind.node.ObjectNode pre = root.putObject("pre_tokenizer");
    pre.put("type", "Split");
    pre.putObject("pattern").put("Regex", pattern);
    pre.put("behavior", "Isolated");
    pre.put("invert", false);
    root.putNull("post_processor");
    root.putObject("decoder").put("type", "Fuse");
    com.fasterxml.jackson.databind.node.ObjectNode model = root.putObject("model");
    model.put("type", "WordLevel");
    com.fasterxml.jackson.databind.node.ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < pieces.size(); i++) {
      vocab.put(pieces.get(i), i);
    }
    model.put("unk_token", UNK);
    return root;
  }

  /** The pieces by id: the vocabulary a checkpoint records. */
  public List<String> pieces() {
    return List.copyOf(pieces);
  }

  @Override
  public int vocabSize() {
    return pieces.size();
  }

  @Override
  public int bosId() {
    return ids.get(BOS);
  }

  @Override
  public int eosId() {
    return ids.get(EOS);
  }

  @Override
  public int padId() {
    return ids.get(PAD);
  }

  public int unkId() {
    return ids.get(UNK);
  }

  @Override
  public int tokenId(String token) {
    return ids.getOrDefault(token, -1);
  }
}
