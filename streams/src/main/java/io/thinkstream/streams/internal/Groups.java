package io.thinkstream.streams.internal;

/** Names of groups: one per (problemId, policyVersion) while open, one per closing under replay. */
public final class Groups {
  private Groups() {}

  /** The open group's store key: samples of different policy versions are never grouped together. */
  public static String key(String problemId, long policyVersion) {
    return problemId + '\u0000' + policyVersion;
  }

  /** The closed group's id: stable under replay, distinct for each group a (problem, version) closes. */
  public static String id(String problemId, long policyVersion, String firstSampleId) {
    return problemId + "|v" + policyVersion + "|" + firstSampleId;
  }
}
