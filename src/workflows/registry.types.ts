export interface CapabilityDoc {
  id: string;
  name: string;
  description?: string;
  created_at: Date;
}

export interface ObjectTypeDoc {
  id: string;
  name: string;
  description?: string;
  created_at: Date;
}

export interface WorkflowDoc {
  id: string;
  name: string;
  description?: string;
  capability_ids: string[];
  /** How long a claim holds before it expires unless heartbeated. */
  lease_seconds?: number;
  /** When true, several sites may hold open claims on one job at once. */
  parallel_claims?: boolean;
  created_at: Date;
}

export interface TriggerDoc {
  /** `<object_type_id>--<workflow_id>` */
  id: string;
  object_type_id: string;
  workflow_id: string;
  created_at: Date;
}

export interface RegistrySeed {
  version: number;
  capabilities: Omit<CapabilityDoc, 'created_at'>[];
  object_types: Omit<ObjectTypeDoc, 'created_at'>[];
  workflows: Omit<WorkflowDoc, 'created_at'>[];
  triggers: Omit<TriggerDoc, 'created_at' | 'id'>[];
}
