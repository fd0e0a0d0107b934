package io.thinkstream.streams.internal;

import io.thinkstream.avro.JudgeItem;
import io.thinkstream.avro.JudgeRequest;
import io.thinkstream.avro.JudgeResult;
import io.thinkstream.avro.JudgeScore;
import io.thinkstream.avro.PairKind;
import io.thinkstream.avro.Reward;
import io.thinkstream.avro.RewardKind;
import io.thinkstream.streams.avro.GradedSample;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;

/**
 * Judge rewards and pairs (Thought Preference Optimization, length-controlled): the judge scores
 * each sample's response — the text after the thought marker, or the sample's answer part when
 * there is no marker — and s = z(score) − ρ·z(length) over the group; chosen = argmax s,
 * rejected = argmin s, and unparseable judge outputs are always the rejected side. The pair holds
 * the full completions (thought and response), since the policy is trained on both. The judge
 * itself runs in the judge worker, off the stream thread: {@link #request} is what it is sent and
 * {@link #apply} turns its answer into rewards and the pair.
 */
public final class JudgePairs {
  private final double rho;
  private final String thoughtMarker;

  public JudgePairs(double rho, String thoughtMarker) {
    this.rho = rho;
    this.thoughtMarker = thoughtMarker;
  }

  /** The part of a sample the judge may see. */
  public String response(GradedSample sample) {
    String completion = OutcomePairs.completion(sample);
    int at = thoughtMarker.isEmpty() ? -1 : completion.lastIndexOf(thoughtMarker);
    return at >= 0 ? completion.substring(at + thoughtMarker.length()).strip() : sample.getAnswer().strip();
  }

  /** What the judge worker is sent for a closed group: responses only, never a thought. */
  public JudgeRequest request(String groupId, List<GradedSample> group, long nowMs) {
    GradedSample first = group.get(0);
    List<JudgeItem> items = new ArrayList<>(group.size());
    for (GradedSample s : group) {
      items.add(new JudgeItem(s.getSampleId(), response(s)));
    }
    return JudgeRequest.newBuilder()
        .setGroupId(groupId)
        .setProblemId(first.getProblemId())
        .setPolicyVersion(first.getPolicyVersion())
        .setPrompt(first.getPrompt())
        .setGold(first.getGold())
        .setItems(items)
        .setCreatedAt(Instant.ofEpochMilli(nowMs))
        .build();
  }

  /** JUDGE rewards for every sample and the JUDGE pair, from the judge's scores of the group. */
  public List<KeyValue<String, SpecificRecord>> apply(List<GradedSample> group, JudgeResult result) {
    Map<String, JudgeScore> byId = new HashMap<>();
    result.getScores().forEach(s -> byId.put(s.getSampleId(), s));
    int n = group.size();
    double[] score = new double[n];
    double[] length = new double[n];
    boolean[] parsed = new boolean[n];
    for (int i = 0; i < n; i++) {
      GradedSample s = group.get(i);
      length[i] = response(s).length();
      JudgeScore js = byId.get(s.getSampleId());
      if (js != null && js.getScore() != null && Double.isFinite(js.getScore())) {
        score[i] = js.getScore();
        parsed[i] = true;
      }
    }
    double[] zScore = z(score, parsed);
    double[] zLength = z(length, parsed);
    double[] s = new double[n];
    double lowest = 0;
    for (int i = 0; i < n; i++) {
      if (parsed[i]) {
        s[i] = zScore[i] - rho * zLength[i];
        lowest = Math.min(lowest, s[i]);
      }
    }
    int best = -1;
    int worst = -1;
    for (int i = 0; i < n; i++) {
      if (!parsed[i]) {
        s[i] = lowest - 1; // below every parsed response: unparseable outputs are rejected first
      }
      if (parsed[i] && (best < 0 || s[i] > s[best])) {
        best = i;
      }
      if (worst < 0 || s[i] < s[worst]) {
        worst = i;
      }
    }
    List<KeyValue<String, SpecificRecord>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      GradedSample g = group.get(i);
      JudgeScore js = byId.get(g.getSampleId());
      Map<String, String> details = new LinkedHashMap<>();
      details.put("score", parsed[i] ? String.valueOf(score[i]) : "unparseable");
      details.put("length", String.valueOf((long) length[i]));
      details.put("group", result.getGroupId());
      if (js != null && js.getError() != null) {
        details.put("error", js.getError());
      }
      out.add(KeyValue.pair(g.getSampleId(), Reward.newBuilder()
          .setSampleId(g.getSampleId())
          .setProblemId(g.getProblemId())
          .setKind(RewardKind.JUDGE)
          .setValue(s[i])
          .setJudgeId(result.getJudgeId())
          .setDetails(details)
          .setCreatedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
          .build()));
    }
    if (best >= 0 && worst != best && s[best] > s[worst]) {
      GradedSample chosen = group.get(best);
      GradedSample rejected = group.get(worst);
      out.add(KeyValue.pair(chosen.getProblemId(), OutcomePairs.pair(PairKind.JUDGE, chosen.getPrompt(),
          OutcomePairs.completion(chosen), OutcomePairs.completion(rejected), s[best] - s[worst], chosen, rejected)));
    }
    return out;
  }

  /** Standard scores over the parsed entries; 0 for all when they do not vary. */
  static double[] z(double[] x, boolean[] use) {
    double sum = 0;
    int count = 0;
    for (int i = 0; i < x.length; i++) {
      if (use[i]) {
        sum += x[i];
        count++;
      }
    }
    double mean = count == 0 ? 0 : sum / count;
    double var = 0;
    for (int i = 0; i < x.length; i++) {
      if (use[i]) {
        var += (x[i] - mean) * (x[i] - mean);
      }
    }
    double sd = count == 0 ? 0 : Math.sqrt(var / count);
    double[] z = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      z[i] = sd < 1e-12 ? 0 : (x[i] - mean) / sd;
    }
    return z;
  }
}
