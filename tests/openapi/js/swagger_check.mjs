// Loads the gateway's $oas with swagger-client and calls operations by operationId, as Power
// Automate's HTTP + Swagger action does; prints a JSON summary on stdout that
// tests/openapi/test_swagger_client.py asserts on.
//
// Usage: node swagger_check.mjs SPEC_URL MODE ARG [USER TOKEN]
//   MODE "read":  ARG is a SUPPORT record id with comments; lists, counts, gets and lists comments
//   MODE "write": ARG is a unique customer code; creates, finds, updates and deletes a customer
//   MODE "upsert": ARG is a customer code (with quotes, say); upserts it twice by the key
//                 template, then lists it by $filter
//   MODE "dynamic": ARG is a JSON object {app, record}; on the dynamic connector document, lists
//                 the apps, gets the schema of the one whose Title starts with ARG.app, adds
//                 ARG.record with the last choice of every enum field, reads it back, then
//                 upserts it by its first key field and reads it again
//   USER TOKEN:   fetch the document with Basic authentication and call the operations with the
//                 document's "basic" security definition (a custom connector); without them the
//                 authtoken is in SPEC_URL's path and so in every call's (HTTP + Swagger).
// Each step is {status, body} (a failed call keeps its status and OData error body).
import SwaggerClient from "swagger-client";

async function call(client, operationId, parameters = {}) {
  try {
    const response = await client.execute({ operationId, parameters });
    return { status: response.status, body: response.body ?? response.text };
  } catch (error) {
    if (!error.response) throw error;
    return { status: error.response.status, body: error.response.body ?? error.response.text };
  }
}

async function read(client, recordId) {
  const filter = "customer_code eq 'C-00001' or customer_code eq 'C-00002'";
  return {
    list: await call(client, "ListCustomers", { $filter: filter, $orderby: "customer_code" }),
    top: await call(client, "ListOrders", { $top: 3, $select: "Id,product", $count: true }),
    count: await call(client, "GetCountCustomers", { $filter: filter }),
    get: await call(client, "GetSupport", { Id: recordId }),
    comments: await call(client, "ListComments", {
      $filter: `AppId eq 3 and RecordId eq ${recordId}`,
    }),
    field: await call(client, "GetField", { AppId: 1, Code: "customer_code" }),
  };
}

async function write(client, code) {
  const filter = { $filter: `customer_code eq '${code}'` };
  const steps = { before: await call(client, "ListCustomers", filter) };
  steps.create = await call(client, "CreateCustomers", {
    body: { customer_code: code, company_name: "Swagger client Ltd." },
  });
  if (steps.create.status !== 201) return steps;
  const id = steps.create.body.Id;
  steps.listed = await call(client, "ListCustomers", filter);
  steps.update = await call(client, "UpdateCustomers", {
    Id: id,
    body: { company_name: "Renamed Ltd." },
  });
  steps.get = await call(client, "GetCustomers", { Id: id });
  steps.remove = await call(client, "DeleteCustomers", { Id: id });
  steps.gone = await call(client, "ListCustomers", filter);
  return steps;
}

async function dynamic(client, { app, record }) {
  const steps = { tables: await call(client, "GetTables") };
  const table = steps.tables.body.value.find((t) => t.Title.startsWith(app));
  steps.schema = await call(client, "GetRecordSchema", { EntitySet: table.Name, for: "create" });
  const body = { ...record };
  for (const [name, property] of Object.entries(steps.schema.body.schema.properties)) {
    if (property.enum && property.type === "string") body[name] = property.enum.at(-1);
  }
  steps.add = await call(client, "AddRecord", { EntitySet: table.Name, body });
  if (steps.add.status !== 201) return steps;
  steps.get = await call(client, "GetRecord", { EntitySet: table.Name, Id: steps.add.body.Id });
  steps.sent = body;
  steps.keys = await call(client, "GetKeyFields", { EntitySet: table.Name });
  const keyField = steps.keys.body.value[0].Name;
  steps.upsert = await call(client, "UpsertRecord", {
    EntitySet: table.Name, KeyField: keyField, Key: record[keyField], body: { name: "Upserted" },
  });
  steps.after = await call(client, "GetRecord", { EntitySet: table.Name, Id: steps.add.body.Id });
  return steps;
}

async function upsert(client, code) {
  const steps = {
    created: await call(client, "UpsertCustomers", { Key: code, body: { company_name: "Q1" } }),
    changed: await call(client, "UpsertCustomers", { Key: code, body: { company_name: "Q2" } }),
  };
  steps.listed = await call(client, "ListCustomers", {
    $filter: `customer_code eq '${code.replaceAll("'", "''")}'`,
  });
  return steps;
}

const MODES = { read: (c, arg) => read(c, Number(arg)), write, upsert, dynamic: (c, arg) =>
  dynamic(c, JSON.parse(arg)) };

function basicAuth(url, username, password) {
  const header = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  return {
    // Only the document itself: the operations must get their credentials from the document.
    requestInterceptor: (request) => {
      if (request.url === url) request.headers.Authorization = header;
      return request;
    },
    authorizations: { basic: { username, password } },
  };
}

async function main() {
  const [url, mode, arg, username, password] = process.argv.slice(2);
  const client = await SwaggerClient({ url, ...(username ? basicAuth(url, username, password) : {}) });
  const operations = Object.values(client.spec.paths).flatMap((item) =>
    Object.values(item).map((operation) => operation.operationId),
  );
  const steps = await MODES[mode](client, arg);
  process.stdout.write(JSON.stringify({ operations, steps }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
