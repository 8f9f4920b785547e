// Outcomes a client counts without the daemon (it could not reach a working one): appended
// as one reason per line to a small file in the cache root, folded into the daemon's
// counters when it starts and on `status`.
export const CLIENT_REPORTS_FILE = "client-fallbacks";

/** Reasons a client may report; anything else in the file is ignored. */
export const CLIENT_REPORT_REASONS = ["daemon-unresponsive", "runtime-dir-refused"] as const;
export type ClientReportReason = (typeof CLIENT_REPORT_REASONS)[number];
