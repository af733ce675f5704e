package io.trellis.ingress.replay;

import io.trellis.ingress.testing.ChdbEngine;

/**
 * Replay against the ClickHouse 26.5 engine of {@code libchdb.so} behind the HTTP test front: the
 * seed schema with DateTime64(3), and the sink's insert deduplication tokens beside the event_id
 * check.
 */
@ChdbEngine
class ChdbReplayIT extends ReplayContract {}
