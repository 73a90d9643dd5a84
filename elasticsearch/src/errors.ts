// Reading Elasticsearch client errors: the few outcomes the collector and detection's adapters treat as answers.
import type { Client } from '@elastic/elasticsearch';

/** A 404: the document (or index) is not there. */
export const isNotFound = (err: unknown): boolean => (err as any)?.meta?.statusCode === 404;

/** A 409: a create found the id taken, or an if_seq_no write lost a race. */
export const isConflict = (err: unknown): boolean => (err as any)?.meta?.statusCode === 409;

/** A search on an index that does not exist yet (nothing has been written to it). */
export const isIndexMissing = (err: unknown): boolean => (err as any)?.meta?.body?.error?.type === 'index_not_found_exception';

/** A document's source, or undefined when it (or its index) does not exist. */
export async function sourceOf<T>(client: Client, index: string, id: string): Promise<T | undefined> {
  try {
    return (await client.get<T>({ index, id }))._source;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
