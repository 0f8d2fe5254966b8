import type {
  FactRetriever,
  FactRetrieverContext,
  TechInsightFact,
} from '@backstage-community/plugin-tech-insights-node';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { DateTime } from 'luxon';

// The KPIs to collect (their keys) and each one's facts, typed as GET /v1/backstage/facts types them.
const KPIS = ['availability', 'change_failure_rate'];
const FIELDS = {
  status: 'string', value: 'float', target: 'float', unit: 'string',
  period_start: 'datetime', period_end: 'datetime',
} as const;
const TYPES = new Map<string, (typeof FIELDS)[keyof typeof FIELDS]>(KPIS.flatMap(kpi =>
  Object.entries(FIELDS).map(([field, type]) => [`${kpi}_${field}`, type] as const)));

type Facts = {
  entities: { entity: TechInsightFact['entity']; facts: Record<string, string | number | null> }[];
};
let etag = '';

export const kpiFactRetriever: FactRetriever = {
  id: 'kpi-service',
  version: '1.0.0',
  entityFilter: [{
    kind: ['component', 'system'],
    'metadata.annotations.kpi.example/service': CATALOG_FILTER_EXISTS,
  }],
  schema: Object.fromEntries([...TYPES].map(([name, type]) => [name, { type, description: name }])),
  async handler(ctx: FactRetrieverContext): Promise<TechInsightFact[]> {
    const response = await fetch(`${ctx.config.getString('kpi.baseUrl')}/v1/backstage/facts`, {
      headers: { Authorization: `Bearer ${ctx.config.getString('kpi.token')}`, 'If-None-Match': etag },
    });
    if (response.status === 304) return []; // no fact changed: the stored ones stand
    if (!response.ok) throw new Error(`KPI service answered ${response.status}`);
    etag = response.headers.get('ETag') ?? '';
    const body = (await response.json()) as Facts;
    return body.entities.map(({ entity, facts }) => ({
      entity,
      facts: Object.fromEntries(Object.entries(facts)
        .filter(([name]) => TYPES.has(name))
        .map(([name, value]) => [name, TYPES.get(name) === 'datetime' && typeof value === 'string'
          ? DateTime.fromISO(value) : value])),
    }));
  },
};
