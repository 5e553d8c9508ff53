// The Node/Express/Bull peer of the gateway's accept (bench/node_peer.py runs it).
//
// POST /api/v1/payments as a Node payment service would write it: Express and its JSON
// body parser, node-postgres (one statement per round trip, as it sends them), a Bull
// queue for the processor. It does the work our accept does, on our schema: the API
// key's keyed hash looked up (cached per worker for 1 s, as ours), the body validated,
// the request fingerprinted (HMAC), and in one transaction the idempotency claim, the
// payment with its first history row and the idempotency record; then the job queued.
// One process per core (cluster), as granian runs ours.
"use strict";

const cluster = require("node:cluster");
const crypto = require("node:crypto");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
};

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS || 2);
  for (let i = 0; i < workers; i += 1) cluster.fork();
  const stop = () => {
    for (const worker of Object.values(cluster.workers)) worker.kill("SIGTERM");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  serve();
}

function serve() {
  const express = require("express");
  const { Pool } = require("pg");
  const Queue = require("bull");

  const apiKeyRing = { version: env("API_KEY_HMAC_VERSION"), key: Buffer.from(env("API_KEY_HMAC_KEY_HEX"), "hex") };
  const fingerprintKey = Buffer.from(env("IDEMPOTENCY_HMAC_KEY_HEX"), "hex");
  const pool = new Pool({ connectionString: env("DATABASE_URL"), max: Number(process.env.POOL_SIZE || 8) });
  const queue = new Queue("payments", env("REDIS_URL"));
  const keys = new Map(); // key hash -> [merchant id, valid until]
  const METHODS = new Set(["upi", "card", "netbanking", "wallet"]);
  const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

  const keyHash = (apiKey) => {
    const digest = crypto.createHash("sha256").update(apiKey).digest();
    const mac = crypto.createHmac("sha256", apiKeyRing.key).update(Buffer.concat([Buffer.from("api-key\0"), digest]));
    return `hmac-sha256:v${apiKeyRing.version}:${mac.digest("hex")}`;
  };
  const newId = (prefix) => {
    let chars = "";
    for (const byte of crypto.randomBytes(24)) chars += ALPHABET[byte % 62];
    return `${prefix}_${chars}`;
  };
  const fail = (res, status, code, message, param) =>
    res.status(status).json({ error: { type: "invalid_request_error", code, message, ...(param ? { param } : {}) } });

  async function merchantOf(apiKey) {
    const hash = keyHash(apiKey);
    const hit = keys.get(hash);
    if (hit && hit[1] > Date.now()) return hit[0];
    const { rows } = await pool.query("SELECT merchant_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", [hash]);
    if (rows.length === 0) return null;
    keys.set(hash, [rows[0].merchant_id, Date.now() + 1000]);
    return rows[0].merchant_id;
  }

  const app = express();
  app.use(express.json({ limit: "16kb" }));
  app.post("/api/v1/payments", async (req, res) => {
    const [scheme, apiKey] = (req.get("authorization") || "").split(" ");
    if (scheme !== "Bearer" || !apiKey) return fail(res, 401, "api_key_missing", "No API key provided.");
    const merchantId = await merchantOf(apiKey);
    if (!merchantId) return fail(res, 401, "api_key_invalid", "Invalid API key provided.");
    const body = req.body || {};
    if (!Number.isInteger(body.amount) || body.amount < 1) return fail(res, 400, "parameter_invalid", "amount must be a positive integer", "amount");
    if (typeof body.currency !== "string" || !/^[A-Z]{3}$/.test(body.currency)) return fail(res, 400, "parameter_invalid", "currency must be 3 capitals", "currency");
    if (!METHODS.has(body.method)) return fail(res, 400, "parameter_invalid", "unknown method", "method");
    if (typeof body.order_id !== "string" || body.order_id.length < 1 || body.order_id.length > 64) return fail(res, 400, "parameter_invalid", "order_id must be 1 to 64 characters", "order_id");
    if (body.method === "upi" && typeof body.vpa !== "string") return fail(res, 400, "parameter_missing", "vpa is required for upi", "vpa");
    const idempotencyKey = req.get("idempotency-key");
    const now = new Date();
    const payment = {
      id: newId("pay"), merchant_id: merchantId, order_id: body.order_id, amount: body.amount,
      currency: body.currency, method: body.method, status: "PENDING", vpa: body.vpa ?? null,
      capture_method: "automatic", created_at: now.toISOString(), updated_at: now.toISOString(),
    };
    const answer = JSON.stringify(payment);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      if (idempotencyKey) {
        await client.query("SELECT claim_idempotency_key($1, $2, $3)", [merchantId, idempotencyKey, 86400]);
      }
      await client.query(
        `WITH inserted AS (
           INSERT INTO payments (id, merchant_id, order_id, amount, currency, method, status, vpa,
                                 metadata, capture_method, next_attempt_at, enqueued_at, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, '{}', 'automatic', $8, $8, $8, $8)
           RETURNING id, created_at)
         INSERT INTO payment_history (payment_id, at, from_status, to_status)
         SELECT id, created_at, NULL, 'PENDING' FROM inserted`,
        [payment.id, merchantId, body.order_id, body.amount, body.currency, body.method, payment.vpa, now],
      );
      if (idempotencyKey) {
        const fingerprint = crypto.createHmac("sha256", fingerprintKey).update(JSON.stringify(["POST", req.path, body])).digest("hex");
        await client.query(
          `INSERT INTO idempotency_keys (merchant_id, key, request_hash, response_status, response_headers, response_body)
           VALUES ($1, $2, $3, 202, '{}', $4)`,
          [merchantId, idempotencyKey, `hmac-sha256:${fingerprint}`, Buffer.from(answer)],
        );
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      if (error.code === "GWK09" || error.code === "GWK00" || error.code === "23505") {
        return fail(res, 409, "conflict", "Idempotency-Key or order already used.");
      }
      throw error;
    } finally {
      client.release();
    }
    await queue.add({ id: payment.id }, { removeOnComplete: true });
    res.status(202).type("application/json").send(answer);
  });
  app.use((error, req, res, next) => {
    if (error.type === "entity.parse.failed") return fail(res, 400, "invalid_json", "The request body is not valid JSON.");
    console.error(error);
    res.status(500).json({ error: { type: "api_error", code: "internal_error", message: "Internal error." } });
  });
  app.listen(Number(env("PORT")), "127.0.0.1");
}
