// One Elasticsearch for the whole run: $STACKLENS_ES_URL when set, otherwise the embedded
// one started here on port 9250 (kept apart from the demo's 9200) and stopped at the end.
import type { TestProject } from 'vitest/node';
import { startElasticsearch, stopElasticsearch } from '@stacklens/elasticsearch';

const TEST_ES_PORT = 9250;

declare module 'vitest' {
  export interface ProvidedContext {
    esUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.STACKLENS_ES_URL;
  if (external) {
    project.provide('esUrl', external.replace(/\/+$/, ''));
    return async () => {};
  }
  const es = await startElasticsearch({ port: TEST_ES_PORT, heapMb: 1024 });
  project.provide('esUrl', es.url);
  return async () => {
    if (!es.reused) await stopElasticsearch({ port: TEST_ES_PORT });
  };
}
