// Reads the demo through the gateway with o.js (an OData client we did not write) and prints
// what it got as JSON, one entry per check, for tests/gateway/test_js_odata.py to judge.
// Usage: node odata_client_check.mjs SERVICE_ROOT USER AUTHTOKEN SET...
import { o } from "o.js";

const [root, user, token, ...sets] = process.argv.slice(2);
const config = {
  headers: { Authorization: "Basic " + Buffer.from(`${user}:${token}`).toString("base64") },
  fragment: "", // whole bodies: the next links and counts are read here
};

// One check: its result, or the HTTP status and error body it failed with.
async function check(run) {
  try {
    return { ok: await run() };
  } catch (failure) {
    if (failure && typeof failure.status === "number") {
      return { status: failure.status, error: await failure.text() };
    }
    return { error: String(failure && failure.stack || failure) };
  }
}

// Every entity of a set (or any collection resource), page by page through the next links.
async function readAll(resource, query) {
  let body = await o(root, config).get(resource).query(query);
  const entities = [...body.value];
  let pages = 1;
  while (body["@odata.nextLink"]) {
    body = await o(body["@odata.nextLink"], config).get().query();
    entities.push(...body.value);
    pages += 1;
  }
  return { entities, pages };
}

const result = { sets: {} };
for (const name of sets) {
  const query = name === "Comments" ? { $filter: "AppId eq 3" } : undefined;
  result.sets[name] = await check(async () => {
    const { entities, pages } = await readAll(name, query);
    return { count: entities.length, pages, first: entities[0] };
  });
}
result.count = await check(async () => {
  const body = await o(root, config).get("ORDERS").query({
    $filter: "quantity ge 45 and product eq 'Premium plan'", $count: "true", $top: "0" });
  return body["@odata.count"];
});
result.japaneseFilter = await check(async () => {
  const { entities } = await readAll("SUPPORT", {
    $filter: "優先度 eq '高'", $select: "Id,優先度" });
  return entities;
});
result.expand = await check(async () => {
  const body = await o(root, config).get("ORDERS").query({
    $top: "5", $select: "Id,customer_code,company_name",
    $expand: "customer_code_Record($select=customer_code,company_name),Comments" });
  return body.value;
});
result.expandComments = await check(async () => {
  const body = await o(root, config).get("SUPPORT").query({
    $top: "20", $select: "Id", $expand: "Comments($select=Id,Text;$top=2)" });
  return body.value;
});
console.log(JSON.stringify(result));
