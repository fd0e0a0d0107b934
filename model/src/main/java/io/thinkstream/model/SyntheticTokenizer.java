package io.thinkstream.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.thinkstream.schemas.text.PromptFormat;
import io.thinkstream.tasks.SyntheticProblems;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The built-in tokenizer of the synthetic arithmetic task: every word the problem generator
 * writes is one token (with and without a leading space), digits and punctuation are single
 * characters, so numbers are spelled digit by digit — a tiny model learns arithmetic that way.
 *
 * <p>Specials: {@code <pad>} (id 0), {@code <bos>}, {@code <eos>}, {@code <unk>}, then the strategy
 * tags {@code <think1>}…{@code <thinkN>}. Any printable ASCII character has a token, so only
 * non-ASCII text falls back to {@code <unk>}.
 *
 * <p>{@link #SyntheticTokenizer(int)} builds the vocabulary from today's word lists, for a fresh
 * model; a checkpoint's tokenizer is {@link #fromHfJson} of the {@code tokenizer.json} it was
 * written with, so the word lists can change without renumbering any existing checkpoint.
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
  /** A word piece: letters, with or without a leading space. */
  private static final Pattern WORD_PIECE = Pattern.compile(" ?[A-Za-z]+");

  private final List<String> pieces = new ArrayList<>();
  private final Map<String, Integer> ids = new HashMap<>();
  private final Set<String> specials = new LinkedHashSet<>();
  /** Multi-character pieces that are not words ({@code ####}, {@code <<}, {@code >>}), longest first. */
  private final List<String> symbols = new ArrayList<>();
  private final int strategies;

  /** The vocabulary of today's word lists with {@code strategies} tags: the tokenizer of a fresh model. */
  public SyntheticTokenizer(int strategies) {
    this(builtInPieces(checkStrategies(strategies)), 4 + strategies);
  }

  /** Pieces by id, the first {@code specialCount} of them special. */
  private SyntheticTokenizer(List<String> pieces, int specialCount) {
    for (int id = 0; id < pieces.size(); id++) {
      String piece = pieces.get(id);
      if (ids.putIfAbsent(piece, id) != null) {
        throw new IllegalArgumentException("piece '" + piece + "' has two ids, " + ids.get(piece) + " and " + id);
      }
      this.pieces.add(piece);
      if (id < specialCount) {
        specials.add(piece);
      } else if (piece.length() > 1 && !WORD_PIECE.matcher(piece).matches() && !piece.equals("\n")) {
        symbols.add(piece);
      }
    }
    symbols.sort(Comparator.comparingInt(String::length).reversed());
    for (String required : List.of(PAD, BOS, EOS, UNK)) {
      if (!specials.contains(required)) {
        throw new IllegalArgumentException("the vocabulary lacks the special token " + required + ": " + specials);
      }
    }
    this.strategies = (int) specials.stream().filter(t -> PromptFormat.tagIndex(t).isPresent()).count();
  }

  private static int checkStrategies(int strategies) {
    if (strategies < 0 || strategies > 64) {
      throw new IllegalArgumentException("strategy tags must be in [0, 64], got " + strategies);
    }
    return strategies;
  }

  private static List<String> builtInPieces(int strategies) {
    LinkedHashSet<String> pieces = new LinkedHashSet<>(List.of(PAD, BOS, EOS, UNK));
    for (int i = 1; i <= strategies; i++) {
      pieces.add(PromptFormat.tag(i));
    }
    pieces.add("\n");
    for (char c = 32; c < 127; c++) {
      pieces.add(String.valueOf(c));
    }
    pieces.addAll(SYMBOLS);
    List<String> words = new ArrayList<>(WORDS);
    words.addAll(SyntheticProblems.NAMES);
    words.addAll(SyntheticProblems.ITEMS);
    words.addAll(SyntheticProblems.CONTAINERS);
    words.addAll(SyntheticProblems.PEOPLE);
    for (String w : words) {
      pieces.add(w);
      pieces.add(" " + w);
    }
    return List.copyOf(pieces);
  }

  /**
   * The tokenizer a {@link #toHfJson} file records, whatever today's word lists say: its pieces
   * and ids are the file's {@code model.vocab}, its specials the file's special added tokens
   * (which come first). Refused, with the reason, when the file is not one this class wrote.
   */
  public static SyntheticTokenizer fromHfJson(JsonNode json) {
    JsonNode model = json.path("model");
    if (!model.path("type").asText("").equals("WordLevel") || !model.path("vocab").isObject()) {
      throw new IllegalArgumentException("not the built-in tokenizer's tokenizer.json: model type '"
          + model.path("type").asText("") + "', expected WordLevel with a vocab");
    }
    String[] byId = new String[model.path("vocab").size()];
    for (Map.Entry<String, JsonNode> e : model.path("vocab").properties()) {
      int id = e.getValue().asInt(-1);
      if (id < 0 || id >= byId.length || byId[id] != null) {
        throw new IllegalArgumentException("tokenizer.json gives '" + e.getKey() + "' id " + e.getValue()
            + ": ids must be 0.." + (byId.length - 1) + ", each once");
      }
      byId[id] = e.getKey();
    }
    int specialCount = 0;
    for (JsonNode added : json.path("added_tokens")) {
      int id = added.path("id").asInt(-1);
      if (!added.path("special").asBoolean(false) || id != specialCount || id >= byId.length
          || !byId[id].equals(added.path("content").asText())) {
        throw new IllegalArgumentException("tokenizer.json's added token " + added + " is not special token "
            + specialCount + " of the vocabulary");
      }
      specialCount++;
    }
    return new SyntheticTokenizer(List.of(byId), specialCount);
  }

  public int strategies() {
    return strategies;
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
        match = symbols.stream().filter(s -> text.startsWith(s, at)).findFirst().orElse(null);
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
