// Drives the official Kintone JavaScript client (@kintone/rest-api-client) against a sandbox and
// prints a JSON summary on stdout; tests/sandbox/test_js_client.py asserts on it.
//
// Usage: node client_check.mjs [BASE_URL] [APP] [COUNT]
//   BASE_URL  KINTONE_BASE_URL, e.g. http://localhost:8090 (the client refuses plain http for any
//             host but "localhost")
//   APP       KINTONE_APP: an app with a SINGLE_LINE_TEXT `title` and a NUMBER `n`
//   COUNT     KINTONE_COUNT, records to add (default 1050: three cursor pages of 500)
// Credentials: KINTONE_USERNAME + KINTONE_PASSWORD, or KINTONE_API_TOKEN.
import dns from "node:dns";

import { KintoneRestAPIClient, KintoneRestAPIError } from "@kintone/rest-api-client";

// "localhost" may resolve to ::1 first while the sandbox listens on 127.0.0.1 only.
dns.setDefaultResultOrder("ipv4first");

const BATCH = 100; // addRecords' per-request maximum on real Kintone

function settings() {
  const [baseUrl, app, count] = process.argv.slice(2);
  const env = process.env;
  const auth = env.KINTONE_API_TOKEN
    ? { apiToken: env.KINTONE_API_TOKEN }
    : { username: env.KINTONE_USERNAME, password: env.KINTONE_PASSWORD };
  return {
    baseUrl: baseUrl ?? env.KINTONE_BASE_URL,
    app: app ?? env.KINTONE_APP,
    count: Number(count ?? env.KINTONE_COUNT ?? 1050),
    auth,
  };
}

async function addAll(client, app, count) {
  const ids = [];
  for (let start = 0; start < count; start += BATCH) {
    const records = [];
    for (let i = start; i < Math.min(start + BATCH, count); i++) {
      records.push({ title: { value: `js-${i}` }, n: { value: String(i) } });
    }
    const result = await client.record.addRecords({ app, records });
    ids.push(...result.ids);
  }
  return ids;
}

async function queryError(client, app) {
  try {
    await client.record.getRecords({ app, query: "no_such_field = 1" });
    return null;
  } catch (error) {
    if (!(error instanceof KintoneRestAPIError)) throw error;
    return { status: error.status, code: error.code, hasId: Boolean(error.id) };
  }
}

async function main() {
  const { baseUrl, app, count, auth } = settings();
  const client = new KintoneRestAPIClient({ baseUrl, auth, proxy: false });

  const ids = await addAll(client, app, count);
  const queried = await client.record.getRecords({
    app,
    query: "n >= 10 and n < 20 order by n desc limit 5",
    fields: ["$id", "title", "n"],
    totalCount: true,
  });
  const all = await client.record.getAllRecordsWithCursor({ app, fields: ["$id", "n"] });
  const first = ids[0];
  const comment = await client.record.addRecordComment({
    app,
    record: first,
    comment: { text: "checked by the official client" },
  });
  const comments = await client.record.getRecordComments({ app, record: first });

  const summary = {
    added: ids.length,
    firstId: first,
    query: {
      totalCount: queried.totalCount,
      titles: queried.records.map((r) => r.title.value),
      numbers: queried.records.map((r) => r.n.value),
      fieldCodes: Object.keys(queried.records[0] ?? {}).sort(),
    },
    cursor: {
      count: all.length,
      uniqueIds: new Set(all.map((r) => r.$id.value)).size,
      sum: all.reduce((total, r) => total + Number(r.n.value), 0),
    },
    comment: {
      id: comment.id,
      texts: comments.comments.map((c) => c.text.trim()),
      older: comments.older,
      newer: comments.newer,
    },
    error: await queryError(client, app),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
