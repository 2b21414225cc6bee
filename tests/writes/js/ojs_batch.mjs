// o.js's batch(): a changeset of creates and a update in one multipart/mixed $batch, then a
// batch of reads (one entity, a count). Prints what o.js parsed from the answers, as JSON, for the Python test.
// Usage: node ojs_batch.mjs <service root> <authtoken> <entity set> <existing id>
import { o } from "o.js";

const [root, token, set, existing] = process.argv.slice(2);
const headers = { "X-Authtoken": token, "Content-Type": "application/json" };
const handler = (useChangset) => o(root + "/", {
  headers: new Headers(headers),
  batch: {
    boundaryPrefix: "batch_", changsetBoundaryPrefix: "changeset_", endpoint: "$batch",
    headers: new Headers({ ...headers, "Content-Type": "multipart/mixed" }),
    useChangset, useRelativeURLs: false,
  },
});

const writes = await handler(true)
  .post(set, { title: "from o.js 1" })
  .post(set, { title: "from o.js 2" })
  .patch(`${set}(${existing})`, { title: "patched by o.js" })
  .batch();
const reads = await handler(false)
  .get(`${set}(${existing})`)
  .get(`${set}/$count`)
  .batch();
console.log(JSON.stringify({ writes, reads }));
