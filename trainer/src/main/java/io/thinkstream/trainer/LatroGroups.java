package io.thinkstream.trainer;

import io.thinkstream.avro.Problem;
import io.thinkstream.avro.Sample;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.schemas.text.PromptFormat;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * LaTRO's input: samples grouped by (problemId, policyVersion) until K rationales and the problem's
 * gold answer are known; then the group becomes one {@link Item.Latro}. Samples of open groups are
 * not consumed yet as far as a checkpoint is concerned: {@link #safeEnd} is the earliest offset
 * still buffered, so a restart re-reads them (and skips, by sampleId, those a group already trained).
 */
final class LatroGroups {
  private record Buffered(Sample sample, Item.Source source) {}

  private final int k;
  private final int maxProblems;
  private final Tokenizer tok;
  private final Map<String, String> gold = new LinkedHashMap<>();
  private final Map<String, List<Buffered>> open = new LinkedHashMap<>();

  LatroGroups(int k, int maxProblems, Tokenizer tok) {
    this.k = k;
    this.maxProblems = maxProblems;
    this.tok = tok;
  }

  static String key(Sample s) {
    return s.getProblemId() + "@" + s.getPolicyVersion();
  }

  /** Whether adding {@code s} completes a group that can train now. */
  boolean completes(Sample s) {
    List<Buffered> g = open.get(key(s));
    return (g == null ? 0 : g.size()) + 1 >= k && gold.containsKey(s.getProblemId());
  }

  /** Buffers {@code s}; returns its group when that is complete (K samples, gold known), else null. */
  Item.Latro add(Sample s, Item.Source source) {
    List<Buffered> g = open.computeIfAbsent(key(s), x -> new ArrayList<>());
    g.add(new Buffered(s, source));
    return g.size() >= k && gold.containsKey(s.getProblemId()) ? close(key(s)) : null;
  }

  /** Records a problem's gold answer; returns the groups that were only waiting for it. */
  List<Item.Latro> problem(Problem p) {
    if (p.getGoldAnswer() == null || p.getGoldAnswer().isBlank()) {
      return List.of();
    }
    gold.put(p.getId(), p.getGoldAnswer());
    while (gold.size() > maxProblems) {
      Iterator<String> it = gold.keySet().iterator();
      it.next();
      it.remove();
    }
    List<Item.Latro> ready = new ArrayList<>();
    for (String key : List.copyOf(open.keySet())) {
      if (key.startsWith(p.getId() + "@") && open.get(key).size() >= k) {
        ready.add(close(key));
      }
    }
    return ready;
  }

  /** The offset a checkpoint may record as consumed in {@code tp}: before the earliest buffered sample. */
  long safeEnd(TopicPartition tp, long next) {
    long end = next;
    for (List<Buffered> g : open.values()) {
      for (Buffered b : g) {
        if (b.source().topic().equals(tp.topic()) && b.source().partition() == tp.partition()) {
          end = Math.min(end, b.source().offset());
        }
      }
    }
    return end;
  }

  /** Removes the buffered samples the dedup window says were trained (a re-read after a restart). */
  boolean contains(String sampleId) {
    return open.values().stream().anyMatch(g -> g.stream().anyMatch(b -> b.sample().getSampleId().equals(sampleId)));
  }

  private Item.Latro close(String key) {
    List<Buffered> g = open.remove(key);
    Sample first = g.get(0).sample();
    String y = "The answer is " + gold.get(first.getProblemId()) + ".";
    List<int[]> prompts = new ArrayList<>();
    List<int[]> rationales = new ArrayList<>();
    boolean[] finished = new boolean[g.size()];
    List<Item.Source> sources = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < g.size(); i++) {
      Sample s = g.get(i).sample();
      prompts.add(tok.encodeAfterBos(s.getPrompt()));
      rationales.add(tok.encode(PromptFormat.reasoning(s.getSteps())));
      finished[i] = !s.getAnswer().isBlank(); // a rationale cut off before any answer never stopped
      sources.add(g.get(i).source());
      ids.add(s.getSampleId());
    }
    int[] answer = tok.encode(y);
    int[] withEos = java.util.Arrays.copyOf(answer, answer.length + 1);
    withEos[answer.length] = tok.eosId();
    return new Item.Latro("latro:" + key, sources.get(sources.size() - 1),
        new Losses.Rationales(prompts, rationales, finished, withEos), ids, sources, first.getProblemId(),
        first.getPolicyVersion());
  }
}
