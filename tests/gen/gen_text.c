/* The words services write: exception texts per error class and language, request chatter,
 * and healthy startup lines that look like errors to a careless grep. Wordings follow what
 * the real libraries print (pymongo, HikariCP, node-postgres, SQLAlchemy, zod, pydantic,
 * ioredis, Node and JVM runtime messages). */
#include <stdio.h>
#include <string.h>

#include "gen.h"

static const char *const env_vars[] = {
    "KV_REDIS_PASSWORD", "DATABASE_URL", "STRIPE_SECRET_KEY", "JWT_SIGNING_KEY",
    "SENDGRID_API_KEY",  "MONGODB_URI",  "SESSION_SECRET",    "OTEL_EXPORTER_OTLP_ENDPOINT",
};

static const char *const py_files[] = {
    "/app/app/api/orders.py",       "/app/app/routes/checkout.py", "/app/app/services/catalog.py",
    "/app/app/handlers/profile.py", "/app/app/api/v1/search.py",
};

static const char *const node_files[] = {
    "/app/dist/routes/cart.js", "/app/dist/services/orders.js", "/app/dist/handlers/checkout.js",
    "/app/dist/lib/session.js", "/app/dist/billing/invoice.js",
};

static const char *const java_pkgs[] = {
    "com.acme.orders",
    "com.acme.payments",
    "io.northwind.catalog",
    "com.brightcart.billing",
};

static void mongo_host(gen_rng *r, char *out, size_t n)
{
    static const char *const clusters[] = {"abcde", "x7kq2", "mz0pf", "q3r9t"};
    snprintf(out, n, "cluster0-shard-00-%02u.%s.mongodb.net", gen_below(r, 3),
             GEN_PICK(r, clusters));
}

static void py_frames(gen_rng *r, fl_buf *b, int depth)
{
    const char *file = GEN_PICK(r, py_files);
    fl_buf_printf(b, "Traceback (most recent call last):\n");
    fl_buf_printf(b, "  File \"/usr/local/lib/python3.11/site-packages/starlette/routing.py\", "
                     "line 74, in app\n    response = await func(request)\n");
    fl_buf_printf(b, "  File \"%s\", line %u, in handle\n    result = await service.run(payload)\n",
                  file, 20 + gen_below(r, 180));
    for (int i = 0; i < depth; i++)
        fl_buf_printf(b,
                      "  File \"/app/app/services/store.py\", line %u, in fetch\n"
                      "    return await self._client.find_one(query)\n",
                      30 + gen_below(r, 90));
}

static void node_stack(gen_rng *r, fl_buf *b, const char *lib_frame)
{
    if (lib_frame)
        fl_buf_printf(b, "\n    at %s", lib_frame);
    fl_buf_printf(b, "\n    at %s:%u:%u", GEN_PICK(r, node_files), 10 + gen_below(r, 200),
                  5 + gen_below(r, 40));
    fl_buf_printf(b, "\n    at process.processTicksAndRejections (node:internal/process/"
                     "task_queues:95:5)");
    fl_buf_printf(b, "\n    at async Layer.handle (/app/node_modules/express/lib/router/"
                     "layer.js:95:5)");
}

static void java_stack(gen_rng *r, fl_buf *b, const char *lib_frame)
{
    const char *pkg = GEN_PICK(r, java_pkgs);
    if (lib_frame)
        fl_buf_printf(b, "\n\tat %s", lib_frame);
    fl_buf_printf(b, "\n\tat %s.repository.JdbcStore.load(JdbcStore.java:%u)", pkg,
                  40 + gen_below(r, 200));
    fl_buf_printf(b, "\n\tat %s.web.ApiController.handle(ApiController.java:%u)", pkg,
                  30 + gen_below(r, 120));
    fl_buf_printf(b, "\n\tat org.springframework.web.servlet.FrameworkServlet.service("
                     "FrameworkServlet.java:885)");
}

int gen_error_variants(int lang, int cls)
{
    switch (cls) {
    case GEN_CLS_SCHEMA:
        return lang == GEN_NODE ? 3 : 2;
    case GEN_CLS_POOL:
        return lang == GEN_NODE ? 2 : 1;
    case GEN_CLS_REDIS:
        return 2;
    case GEN_CLS_UNMATCHED:
        return 2;
    default:
        return 1;
    }
}

/* The exception line: what a structured logger puts in "message". */
void gen_error_summary(gen_rng *r, fl_buf *b, int lang, int cls, int variant, const char *detail)
{
    char host[96];
    const char *var = detail && *detail ? detail : env_vars[0];
    switch (cls) {
    case GEN_CLS_SCHEMA:
        if (lang == GEN_NODE && variant == 0)
            fl_buf_printf(b,
                          "ZodError: [{\"code\":\"invalid_type\",\"expected\":\"string\","
                          "\"received\":\"undefined\",\"path\":[\"%s\"],\"message\":"
                          "\"Required\"}]",
                          var);
        else if (lang == GEN_NODE && variant == 2)
            fl_buf_printf(b, "\xe2\x9d\x8c Invalid environment variables: { %s: [ 'Required' ] }",
                          var);
        else if (lang == GEN_PYTHON && variant == 0)
            fl_buf_printf(b,
                          "pydantic_core._pydantic_core.ValidationError: 1 validation error "
                          "for Settings\n%s\n  Field required [type=missing, input_value="
                          "{'database_url': 'postgresql://app@10.0.0.3/app'}, input_type=dict]",
                          var);
        else if (lang == GEN_JAVA)
            fl_buf_printf(b,
                          "java.lang.IllegalStateException: Missing required environment "
                          "variable %s",
                          var);
        else if (lang == GEN_GO)
            fl_buf_printf(b, "config: Missing required environment variable %s", var);
        else if (lang == GEN_PYTHON)
            fl_buf_printf(b, "RuntimeError: Missing required environment variable %s", var);
        else
            fl_buf_printf(b, "Error: Missing required environment variable: %s", var);
        break;
    case GEN_CLS_OOM:
        if (lang == GEN_NODE)
            fl_buf_printf(b, "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap "
                             "out of memory");
        else if (lang == GEN_JAVA)
            fl_buf_printf(b,
                          "Exception in thread \"http-nio-8080-exec-%u\" "
                          "java.lang.OutOfMemoryError: Java heap space",
                          1 + gen_below(r, 20));
        else if (lang == GEN_GO)
            fl_buf_printf(b, "fatal error: runtime: out of memory");
        else
            fl_buf_printf(b, "MemoryError");
        break;
    case GEN_CLS_MONGO:
        mongo_host(r, host, sizeof(host));
        if (lang == GEN_PYTHON)
            fl_buf_printf(b,
                          "pymongo.errors.ServerSelectionTimeoutError: %s:27017: timed out, "
                          "Timeout: 30s, Topology Description: <TopologyDescription id: "
                          "%016llx%08x, topology_type: ReplicaSetNoPrimary, servers: "
                          "[<ServerDescription ('%s', 27017) server_type: Unknown, rtt: None, "
                          "error=NetworkTimeout('%s:27017: timed out')>]>",
                          host, (unsigned long long)gen_next(r), (unsigned)gen_next(r), host, host);
        else if (lang == GEN_NODE)
            fl_buf_printf(b,
                          "MongoServerSelectionError: connection <monitor> to 10.%u.%u.%u:27017 "
                          "timed out",
                          gen_below(r, 255), gen_below(r, 255), 2 + gen_below(r, 250));
        else if (lang == GEN_JAVA)
            fl_buf_printf(b,
                          "com.mongodb.MongoTimeoutException: Timed out after 30000 ms while "
                          "waiting for a server that matches ReadPreferenceServerSelector"
                          "{readPreference=primary}. Client view of cluster state is "
                          "{type=REPLICA_SET, servers=[{address=%s:27017, type=UNKNOWN, "
                          "state=CONNECTING, exception={com.mongodb.MongoSocketReadTimeoutException"
                          ": Timeout while receiving message}}]",
                          host);
        else
            fl_buf_printf(b,
                          "server selection error: server selection timeout, current topology: "
                          "{ Type: ReplicaSetNoPrimary, Servers: [{ Addr: %s:27017, Type: "
                          "Unknown, Last error: dial tcp 10.%u.0.%u:27017: i/o timeout }, ] }",
                          host, gen_below(r, 255), 2 + gen_below(r, 250));
        break;
    case GEN_CLS_POOL:
        if (lang == GEN_JAVA)
            fl_buf_printf(b, "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection "
                             "is not available, request timed out after 30000ms.");
        else if (lang == GEN_NODE && variant == 1)
            fl_buf_printf(b, "KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is "
                             "probably full. Are you missing a .transacting(trx) call?");
        else if (lang == GEN_NODE)
            fl_buf_printf(b, "Error: timeout exceeded when trying to connect");
        else if (lang == GEN_GO)
            fl_buf_printf(b, "failed to acquire connection from pool: context deadline exceeded");
        else
            fl_buf_printf(b, "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 "
                             "reached, connection timed out, timeout 30.00 (Background on this "
                             "error at: https://sqlalche.me/e/20/3o7r)");
        break;
    case GEN_CLS_REDIS:
        if (lang == GEN_PYTHON)
            fl_buf_printf(b, variant
                                 ? "redis.exceptions.TimeoutError: Timeout reading from socket"
                                 : "redis.exceptions.TimeoutError: Timeout connecting to server");
        else if (lang == GEN_JAVA)
            fl_buf_printf(b, "io.lettuce.core.RedisCommandTimeoutException: Command timed out "
                             "after 1 minute(s)");
        else if (lang == GEN_GO)
            fl_buf_printf(b, "redis: dial tcp 10.%u.1.%u:6379: i/o timeout", gen_below(r, 255),
                          3 + gen_below(r, 200));
        else
            fl_buf_printf(b,
                          variant ? "Error: Command timed out" : "Error: Redis connection timeout");
        break;
    case GEN_CLS_UNMATCHED:
        if (lang == GEN_NODE)
            fl_buf_printf(b, variant ? "TypeError: Cannot read properties of null (reading 'items')"
                                     : "TypeError: Cannot read properties of undefined (reading "
                                       "'customerId')");
        else if (lang == GEN_PYTHON)
            fl_buf_printf(b, variant ? "KeyError: 'customer_id'"
                                     : "AttributeError: 'NoneType' object has no attribute "
                                       "'customer_id'");
        else if (lang == GEN_JAVA)
            fl_buf_printf(b,
                          "java.lang.NullPointerException: Cannot invoke \"%s.model.Customer."
                          "getId()\" because the return value of \"%s.model.Order.getCustomer()"
                          "\" is null",
                          java_pkgs[variant % 4], java_pkgs[variant % 4]);
        else
            fl_buf_printf(b,
                          "http: panic serving 169.254.1.1:%u: runtime error: invalid memory "
                          "address or nil pointer dereference",
                          30000 + gen_below(r, 30000));
        break;
    case GEN_CLS_UPSTREAM:
        if (lang == GEN_PYTHON)
            fl_buf_printf(b, "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host="
                             "'api.stripe.com', port=443): Read timed out. (read timeout=10)");
        else if (lang == GEN_JAVA)
            fl_buf_printf(b, "java.net.SocketTimeoutException: Read timed out");
        else if (lang == GEN_GO)
            fl_buf_printf(b, "Get \"https://api.partner-rates.com/v1/rates\": context deadline "
                             "exceeded (Client.Timeout exceeded while awaiting headers)");
        else
            fl_buf_printf(b, "TimeoutError: The operation was aborted due to timeout");
        break;
    default:
        fl_buf_printf(b, "Error: unexpected failure");
    }
}

/* The full text as written to stderr: exception plus stack in the language's layout. */
void gen_error_text(gen_rng *r, fl_buf *b, int lang, int cls, int variant, const char *detail)
{
    const char *var = detail && *detail ? detail : env_vars[0];
    if (lang == GEN_PYTHON) {
        if (cls == GEN_CLS_OOM) {
            py_frames(r, b, 0);
            fl_buf_printf(b,
                          "  File \"/app/app/reports/export.py\", line %u, in build_rows\n"
                          "    rows.extend(chunk)\nMemoryError",
                          60 + gen_below(r, 90));
            return;
        }
        py_frames(r, b, cls == GEN_CLS_MONGO || cls == GEN_CLS_POOL ? 1 : 0);
        if (cls == GEN_CLS_MONGO)
            fl_buf_printf(b, "  File \"/usr/local/lib/python3.11/site-packages/pymongo/"
                             "synchronous/topology.py\", line 345, in _select_servers_loop\n"
                             "    raise ServerSelectionTimeoutError(\n");
        else if (cls == GEN_CLS_POOL)
            fl_buf_printf(b, "  File \"/usr/local/lib/python3.11/site-packages/sqlalchemy/pool/"
                             "impl.py\", line 168, in _do_get\n    raise exc.TimeoutError(\n");
        else if (cls == GEN_CLS_SCHEMA && variant == 0)
            fl_buf_printf(b, "  File \"/app/app/config.py\", line 41, in get_settings\n"
                             "    return Settings()\n");
        gen_error_summary(r, b, lang, cls, variant, detail);
        if (cls == GEN_CLS_SCHEMA && variant == 0)
            fl_buf_printf(b, "\n    For further information visit "
                             "https://errors.pydantic.dev/2.6/v/missing");
        return;
    }
    if (lang == GEN_NODE && cls == GEN_CLS_SCHEMA && variant == 0) {
        /* zod formats its issues with JSON.stringify(issues, null, 2) */
        fl_buf_printf(b,
                      "ZodError: [\n  {\n    \"code\": \"invalid_type\",\n    \"expected\": "
                      "\"string\",\n    \"received\": \"undefined\",\n    \"path\": [\n      "
                      "\"%s\"\n    ],\n    \"message\": \"Required\"\n  }\n]",
                      var);
        fl_buf_printf(b,
                      "\n    at get error [as error] (/app/node_modules/zod/lib/types.js:55:31)"
                      "\n    at ZodObject.parse (/app/node_modules/zod/lib/types.js:160:22)"
                      "\n    at loadEnv (/app/dist/env.js:%u:28)",
                      10 + gen_below(r, 30));
        return;
    }
    gen_error_summary(r, b, lang, cls, variant, detail);
    if (cls == GEN_CLS_OOM)
        return;
    if (lang == GEN_NODE) {
        const char *lib = NULL;
        if (cls == GEN_CLS_POOL)
            lib = variant
                      ? "Client_PG.acquireConnection (/app/node_modules/knex/lib/client.js:312:26)"
                      : "/app/node_modules/pg-pool/index.js:45:11";
        else if (cls == GEN_CLS_MONGO)
            lib = "Timeout._onTimeout (/app/node_modules/mongodb/lib/sdam/topology.js:278:38)";
        else if (cls == GEN_CLS_REDIS)
            lib = "Timeout._onTimeout (/app/node_modules/ioredis/built/Command.js:192:33)";
        node_stack(r, b, lib);
    } else if (lang == GEN_JAVA) {
        const char *lib = NULL;
        if (cls == GEN_CLS_POOL)
            lib = "com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)";
        else if (cls == GEN_CLS_MONGO)
            lib = "com.mongodb.internal.connection.BaseCluster.createTimeoutException("
                  "BaseCluster.java:380)";
        else if (cls == GEN_CLS_REDIS)
            lib = "io.lettuce.core.internal.ExceptionFactory.createTimeoutException("
                  "ExceptionFactory.java:59)";
        java_stack(r, b, lib);
    } else if (lang == GEN_GO && cls == GEN_CLS_UNMATCHED) {
        fl_buf_printf(b,
                      "\ngoroutine %u [running]:\nnet/http.(*conn).serve.func1()\n"
                      "\t/usr/local/go/src/net/http/server.go:1898 +0xbe\n"
                      "panic({0x8e2b40?, 0xd1c5f0?})\n\t/usr/local/go/src/runtime/panic.go:770 "
                      "+0x132\nmain.(*api).invoice(0xc0001a2000, {0xa3e1d8, 0xc0004b61c0}, "
                      "0xc0002f4000)\n\t/src/cmd/server/invoice.go:%u +0x5f",
                      100 + gen_below(r, 9000), 40 + gen_below(r, 200));
    }
}

void gen_chatter(gen_rng *r, fl_buf *b, const gen_svc *s, const char *method, const char *path,
                 int status, int ms)
{
    static const char *const notes[] = {
        "cache hit for key session:%08x",           "fetched %u items from catalog",
        "published event order.updated id=%u",      "feature flag new-pricing=%u",
        "retry policy: timeout=30s, maxRetries=%u", "served from warm cache (%u entries)",
    };
    static const unsigned limits[] = {1u << 30, 200, 1000000, 2, 6, 5000};
    if (gen_chance(r, 0.25)) {
        uint32_t k = gen_below(r, (uint32_t)FL_ARRAY_LEN(notes));
        fl_buf_printf(b, notes[k], gen_below(r, limits[k]));
        return;
    }
    switch (s->lang) {
    case GEN_NODE:
        if (s->style == GEN_STYLE_TEXT)
            fl_buf_printf(b, "%s %s %d %d.%03u ms - %u", method, path, status, ms,
                          gen_below(r, 1000), 40 + gen_below(r, 4000));
        else
            fl_buf_printf(b, "request completed");
        break;
    case GEN_PYTHON:
        if (s->style == GEN_STYLE_TEXT)
            fl_buf_printf(b, "INFO:     169.254.%u.%u:%u - \"%s %s HTTP/1.1\" %d %s",
                          gen_below(r, 255), gen_below(r, 255), 20000 + gen_below(r, 40000), method,
                          path, status,
                          status < 300    ? "OK"
                          : status == 404 ? "Not Found"
                                          : "");
        else
            fl_buf_printf(b, "%s %s handled in %dms", method, path, ms);
        break;
    case GEN_JAVA:
        fl_buf_printf(b, "Completed %d %s for %s \"%s\" in %d ms", status,
                      status < 300 ? "OK" : "ERROR", method, path, ms);
        break;
    default:
        fl_buf_printf(b, "request handled method=%s path=%s status=%d duration=%dms", method, path,
                      status, ms);
    }
}

bool gen_startup_line(gen_rng *r, fl_buf *b, const gen_svc *s, int i)
{
    char host[96];
    switch (i) {
    case 0:
        if (s->lang == GEN_JAVA)
            fl_buf_printf(b, "HikariPool-1 - Starting...");
        else if (s->lang == GEN_PYTHON)
            fl_buf_printf(b, "INFO:     Started server process [1]");
        else
            fl_buf_printf(b, "starting %s (NODE_ENV=production)", s->name);
        return true;
    case 1:
        if (s->lang == GEN_JAVA)
            fl_buf_printf(b, "HikariPool-1 - Start completed.");
        else
            fl_buf_printf(b, "connection pool initialized (max=%u)", 10u * (1 + gen_below(r, 4)));
        return true;
    case 2:
        fl_buf_printf(b, "Redis connection established");
        return true;
    case 3:
        mongo_host(r, host, sizeof(host));
        fl_buf_printf(b, "MongoDB connected to %s:27017 (serverSelectionTimeoutMS=30000)", host);
        return true;
    case 4:
        if (s->lang == GEN_PYTHON)
            fl_buf_printf(
                b, "INFO:     Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)");
        else if (s->lang == GEN_JAVA)
            fl_buf_printf(b, "Tomcat started on port(s): 8080 (http) with context path ''");
        else
            fl_buf_printf(b, "listening on :8080");
        return true;
    default:
        return false;
    }
}

const char *gen_class_id(int cls)
{
    switch (cls) {
    case GEN_CLS_SCHEMA:
        return "schema_validation";
    case GEN_CLS_OOM:
        return "oom";
    case GEN_CLS_MONGO:
        return "mongo_server_selection";
    case GEN_CLS_POOL:
        return "pool_exhausted";
    case GEN_CLS_REDIS:
        return "redis_timeout";
    case GEN_CLS_UPSTREAM:
        return "upstream_timeout";
    default:
        return NULL;
    }
}
