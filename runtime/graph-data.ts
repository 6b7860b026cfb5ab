// The job graph as plain data, for the dashboard (runtime/dashboard/): what `flowc graph`
// draws, made at compile time from the plan (compiler/graph.ts, `graphData`) and carried by
// the bundle as JSON text in its entry (compiler/bundle.ts). The admin endpoint serves it as
// `GET /graph`; nothing else reads it, so a job without `--admin-port` never parses it.
// Types only.

export interface GraphDataNode {
  /** Unique in the graph: `n<plan node id>`. */
  id: string;
  kind: "source" | "chain" | "operator" | "join" | "sink";
  /** The first line of the node's box: `source bids`, `filter → map`, `aggregate counts`, `sink 0`. */
  title: string;
  /** What `flowc graph` prints under it: type, connector, key, window, state. */
  lines: string[];
  /** Sources: the index in /status `sources`. */
  source?: number;
  /** Operators and joins: the uid, as in /status `operators`. */
  uid?: string;
  /** Sinks: the index in /status `sinks`. */
  sink?: number;
}

export interface GraphDataEdge {
  from: string;
  to: string;
  /** The elements too late for every window (`late: name`). */
  late: boolean;
  /** Through an exchange when the job runs as several instances (LANGUAGE.md 10.1). */
  exchange?: true;
  /** ... except when the number of instances divides this (a source partitioned by the key). */
  unless?: number;
}

export interface GraphData {
  job: string;
  /** Whether any source has event time (then nodes show watermarks). */
  eventTime: boolean;
  nodes: GraphDataNode[];
  edges: GraphDataEdge[];
}
