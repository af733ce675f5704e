package io.trellis.ingress.replay;

/**
 * Replay against the installed {@code clickhouse-server} (Debian's 18.16 here: no insert tokens, so
 * the event_id check alone keeps each event once), or the server at {@code CLICKHOUSE_URL}.
 */
class ReplayIT extends ReplayContract {}
