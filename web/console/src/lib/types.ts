// JSON shapes the console API returns (docs/console.md; the upstream documents are in
// docs/services/*.md). Fields the UI does not need are left out; optional ones may be absent.

export type Tier = 'roof' | 'edge' | 'fog' | 'cloud';
export type ServiceState = 'ready' | 'failing' | 'down' | string;

export interface OverviewService {
  name: string;
  type: string;
  url?: string;
  state: ServiceState;
  detail?: string;
}
export interface OverviewNode {
  name: string;
  tier: Tier | string;
  services: OverviewService[];
}
export interface OverviewLink {
  src: string;
  dst: string;
  bytes_total?: number;
  messages_total?: number;
  bytes_per_s?: number;
  messages_per_s?: number;
  latency_ms_p50?: number | null;
  latency_ms_p95?: number | null;
}
export interface Overview {
  generated_at_ms?: number;
  poll_interval_ms?: number;
  nodes: OverviewNode[];
  links: OverviewLink[];
}

export interface ServiceInfo {
  name: string;
  type: string;
  tier?: string;
  node?: string;
  url?: string;
  role?: string;
}

export interface Hop {
  node: string;
  bytes?: number;
  latency_ms?: number;
}
export interface Alert {
  alert_id: string;
  event_type?: string;
  phase?: string;
  camera?: string;
  zones?: string[];
  label?: string;
  score?: number;
  identity?: { status?: string; name?: string | null; score?: number | null; threshold?: number; metric?: string };
  started_at?: string;
  updated_at?: string;
  ended_at?: string | null;
  track_id?: number;
  snapshot_url?: string | null;
  hops?: Hop[];
  latency_ms?: { end_to_end?: number };
  acknowledged?: { by?: string; at_ms?: number } | boolean | null;
  acked_at?: string | null;
  acked_by?: string | null;
  ack?: { by?: string; at?: string } | null;
  [k: string]: unknown;
}
