package io.thinkstream.streams.internal;

import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.PreferencePair;
import io.thinkstream.avro.SftExample;
import io.thinkstream.avro.SftTurn;
import io.thinkstream.streams.avro.GradedSample;
import io.thinkstream.streams.avro.GradedTurn;
import io.thinkstream.schemas.text.PromptFormat;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Rejection sampling and outcome pairs (RFT/DPO) from one problem's group: each distinct correct
 * completion (at most {@code maxPerProblem}) is the chosen side of an OUTCOME pair whose rejected
 * side is the incorrect sample farthest from it in edit distance — the most different wrong path
 * teaches the most — and becomes an SFT example unless the problem already has
 * {@code maxPerProblem} of them or this very completion (tracked by hash across groups, e.g.
 * across policy versions, in a store of its own).
 *
 * <p>A multi-turn sample is correct only when every turn is ({@link VerifyProcessor}); its SFT
 * example carries every later turn, and it is distinct by the whole conversation. Its pair is about
 * the first turn, the only one a pair's prompt holds, so its rejected side is a sample whose first
 * turn is wrong — one wrong only in a later turn may have the very same first turn.
 */
public final class OutcomePairs implements GroupProcessor.Builder {
  private final int maxPerProblem;
  private final String sftSeenStore;
  private KeyValueStore<String, String> sftSeen;

  public OutcomePairs(int maxPerProblem, String sftSeenStore) {
    this.maxPerProblem = maxPerProblem;
    this.sftSeenStore = sftSeenStore;
  }

  @Override
  public void init(ProcessorContext<?, ?> context) {
    sftSeen = context.getStateStore(sftSeenStore);
  }

  @Override
  public List<KeyValue<String, SpecificRecord>> apply(List<GradedSample> group) {
    // each completion is laid out once: it is the text of outputs, the key of distinctness and the words compared
    Map<String, Side> distinctCorrect = new LinkedHashMap<>();
    List<Side> incorrect = new ArrayList<>();
    for (GradedSample s : group) {
      if (s.getGold() == null) {
        continue; // unlabelled: neither right nor wrong, only the judge can score it
      }
      if (!s.getCorrect()) {
        if (firstTurnWrong(s)) {
          incorrect.add(new Side(s, completion(s)));
        }
      } else if (distinctCorrect.size() < maxPerProblem) {
        String completion = completion(s);
        distinctCorrect.putIfAbsent(conversation(s, completion), new Side(s, completion));
      }
    }
    EditDistance.Vocabulary vocabulary = new EditDistance.Vocabulary();
    List<int[]> incorrectWords = incorrect.stream().map(side -> vocabulary.words(side.completion())).toList();
    List<KeyValue<String, SpecificRecord>> out = new ArrayList<>();
    String problemId = group.isEmpty() ? null : group.get(0).getProblemId();
    String seenBefore = problemId == null ? null : sftSeen.get(problemId);
    List<String> seen = new ArrayList<>(seenBefore == null || seenBefore.isEmpty() ? List.of()
        : List.of(seenBefore.split(",")));
    int seenCount = seen.size();
    for (Map.Entry<String, Side> e : distinctCorrect.entrySet()) {
      GradedSample chosen = e.getValue().sample();
      String completion = e.getValue().completion();
      String hash = Long.toHexString(hash(e.getKey()));
      if (seen.size() < maxPerProblem && !seen.contains(hash)) {
        seen.add(hash);
        out.add(KeyValue.pair(chosen.getProblemId(), SftExample.newBuilder()
            .setProblemId(chosen.getProblemId())
            .setSampleId(chosen.getSampleId())
            .setPrompt(chosen.getPrompt())
            .setCompletion(completion)
            .setStrategy(chosen.getStrategy())
            .setPolicyVersion(chosen.getPolicyVersion())
            .setFollowUps(chosen.getFollowUps().stream()
                .map(t -> new SftTurn(t.getQuestion(), PromptFormat.completion(t.getSteps(), t.getAnswer()))).toList())
            .build()));
      }
      int rejected = farthest(new EditDistance.Query(vocabulary.words(completion)), incorrectWords);
      if (rejected >= 0) {
        Side wrong = incorrect.get(rejected);
        out.add(KeyValue.pair(chosen.getProblemId(), pair(PairKind.OUTCOME, chosen.getPrompt(), completion,
            wrong.completion(), 1.0, chosen, wrong.sample())));
      }
    }
    if (seen.size() > seenCount) {
      sftSeen.put(problemId, String.join(",", seen));
    }
    return out;
  }

  /** A graded sample and its completion text. */
  private record Side(GradedSample sample, String completion) {}

  /** A 64-bit FNV-1a hash of the completion: collisions among 8 completions are negligible. */
  private static long hash(String text) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < text.length(); i++) {
      h = (h ^ text.charAt(i)) * 0x100000001b3L;
    }
    return h;
  }

  /** The index of the incorrect sample farthest from {@code chosen} (the first on ties); -1 when there is none. */
  private static int farthest(EditDistance.Query chosen, List<int[]> incorrectWords) {
    int best = -1;
    int bestDistance = -1;
    for (int i = 0; i < incorrectWords.size(); i++) {
      int d = chosen.distance(incorrectWords.get(i));
      if (d > bestDistance) {
        best = i;
        bestDistance = d;
      }
    }
    return best;
  }

  /** A sample's completion text, laid out by the one {@link PromptFormat}. */
  static String completion(GradedSample sample) {
    return PromptFormat.completion(sample.getSteps(), sample.getAnswer());
  }

  /**
   * What makes a correct sample distinct: its completion, and for a multi-turn sample every later
   * turn too (a single-turn sample's key is its completion alone, as the sft-seen store holds it).
   */
  private static String conversation(GradedSample sample, String completion) {
    if (sample.getFollowUps().isEmpty()) {
      return completion;
    }
    StringBuilder b = new StringBuilder(completion);
    for (GradedTurn t : sample.getFollowUps()) {
      b.append('\u0000').append(t.getQuestion()).append('\u0000').append(PromptFormat.completion(t.getSteps(), t.getAnswer()));
    }
    return b.toString();
  }

  /** Whether an incorrect sample's first turn, the one a pair holds, is wrong (always, for a single-turn one). */
  private static boolean firstTurnWrong(GradedSample sample) {
    return sample.getFollowUps().isEmpty() || !Verifier.verify(sample.getSteps(), sample.getAnswer(), sample.getGold()).correct();
  }

  /** A pair whose id is a function of its kind and sources, so a replay produces the same ids. */
  static PreferencePair pair(PairKind kind, String prompt, String chosen, String rejected, double margin,
      GradedSample chosenSample, GradedSample rejectedSample) {
    List<String> sources = chosenSample == rejectedSample ? List.of(chosenSample.getSampleId())
        : List.of(chosenSample.getSampleId(), rejectedSample.getSampleId());
    return PreferencePair.newBuilder()
        .setPairId(kind.name().toLowerCase() + ":" + String.join("|", sources))
        .setProblemId(chosenSample.getProblemId())
        .setKind(kind)
        .setPrompt(prompt)
        .setChosen(chosen)
        .setRejected(rejected)
        .setPolicyVersion(Math.max(chosenSample.getPolicyVersion(), rejectedSample.getPolicyVersion()))
        .setMargin(margin)
        .setSourceSampleIds(sources)
        .setCreatedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
        .build();
  }
}
