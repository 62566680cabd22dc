/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <ctype.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "chain-rpc.h"
#include "cosmos-upgrade.pb-c.h"
#include "parse-util.h"
#include "string-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free);

int node_rpc_copy(const NodeRpc *r, NodeRpc *ret) {
        NodeRpc c = *r;
        c.url = strdup(r->url);
        c.display = strdup(r->display);
        c.unix_path = r->unix_path ? strdup(r->unix_path) : NULL;
        if (!c.url || !c.display || (r->unix_path && !c.unix_path)) {
                node_rpc_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

void node_rpc_done(NodeRpc *r) {
        free(r->url);
        free(r->unix_path);
        free(r->display);
        *r = (NodeRpc){};
}

/* ---- addresses -------------------------------------------------------------------------------------------
 */

static int parse_port(const char *s, size_t n, uint16_t *ret) {
        if (n == 0 || n > 5)
                return -EINVAL;
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return -EINVAL;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v == 0 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

static bool host_char_ok(char c) {
        return isalnum((unsigned char) c) || c == '.' || c == '-' || c == '_';
}

int node_rpc_parse(const char *s, NodeRpc *ret, const char **ret_reason) {
        const char *rest;
        bool https = false;

        if (!s || isempty(s)) {
                *ret_reason = "it is empty";
                return -EINVAL;
        }
        if ((rest = startswith(s, "unix://"))) {
                if (rest[0] != '/' || strstr(rest, "/../") || endswith(rest, "/..") || strlen(rest) >= 108 ||
                        strpbrk(rest, "?#\n")) {
                        *ret_reason = "a unix socket is written unix:///absolute/path (at most 107 bytes)";
                        return -EINVAL;
                }
                _cleanup_(node_rpc_done) NodeRpc r = {};
                r.unix_path = strdup(rest);
                r.url = strdup("http://localhost");
                r.display = strdup(s);
                if (!r.unix_path || !r.url || !r.display)
                        return -ENOMEM;
                *ret = r;
                r = (NodeRpc){};
                return 0;
        }
        if (!(rest = startswith(s, "http://")) && !(rest = startswith(s, "tcp://"))) {
                rest = startswith(s, "https://");
                https = true;
        }
        if (!rest) {
                *ret_reason = "the scheme is none of http://, https://, tcp:// or unix://";
                return -EINVAL;
        }
        /* host[:port] and nothing else (a trailing '/' is tolerated). */
        size_t n = strlen(rest);
        if (n > 0 && rest[n - 1] == '/')
                n--;
        if (memchr(rest, '/', n) || memchr(rest, '@', n) || memchr(rest, '?', n) || memchr(rest, '#', n)) {
                *ret_reason =
                        "no path, credentials, query or fragment: only the scheme, the host and the port";
                return -EINVAL;
        }
        const char *host = rest, *host_end, *port = NULL;
        if (host[0] == '[') {
                host_end = memchr(host, ']', n);
                if (!host_end) {
                        *ret_reason = "an IPv6 address is written in brackets: [::1]:26657";
                        return -EINVAL;
                }
                host++;
                if (host_end + 1 < rest + n) {
                        if (host_end[1] != ':') {
                                *ret_reason = "expected ':PORT' after the IPv6 address";
                                return -EINVAL;
                        }
                        port = host_end + 2;
                }
        } else {
                host_end = memchr(host, ':', n) ?: rest + n;
                if (*host_end == ':')
                        port = host_end + 1;
                for (const char *c = host; c < host_end; c++)
                        if (!host_char_ok(*c)) {
                                *ret_reason = "the host is not a valid name or address";
                                return -EINVAL;
                        }
        }
        if (host_end == host || (size_t) (host_end - host) > 253) {
                *ret_reason = "the host is missing";
                return -EINVAL;
        }
        uint16_t p = https ? 443 : 80;
        if (port && parse_port(port, (size_t) (rest + n - port), &p) < 0) {
                *ret_reason = "the port is not a number from 1 to 65535";
                return -EINVAL;
        }
        if (!port && startswith(s, "tcp://")) {
                *ret_reason = "tcp:// needs a port, as in tcp://127.0.0.1:26657";
                return -EINVAL;
        }

        _cleanup_free_ char *h = strndup(host, (size_t) (host_end - host));
        if (!h)
                return -ENOMEM;
        _cleanup_(node_rpc_done) NodeRpc r = {.tcp = true, .port = p};
        bool v6 = false;
        if (inet_pton(AF_INET, h, r.address) == 1) {
                r.family = AF_INET;
                /* The node listens on every interface: reach it on loopback. */
                if (memcmp(r.address, (uint8_t[4]){0, 0, 0, 0}, 4) == 0) {
                        free(h);
                        h = strdup("127.0.0.1");
                        if (!h)
                                return -ENOMEM;
                        r.address[0] = 127, r.address[3] = 1;
                }
                r.loopback = r.address[0] == 127;
        } else if (inet_pton(AF_INET6, h, r.address) == 1) {
                r.family = AF_INET6;
                v6 = true;
                static const uint8_t any[16] = {}, lo[16] = {[15] = 1};
                if (memcmp(r.address, any, 16) == 0) {
                        free(h);
                        h = strdup("::1");
                        if (!h)
                                return -ENOMEM;
                        memcpy(r.address, lo, 16);
                }
                r.loopback = memcmp(r.address, lo, 16) == 0;
        } else if (host[-1] == '[') {
                *ret_reason = "the address in brackets is not an IPv6 address";
                return -EINVAL;
        } else if (strcasecmp(h, "localhost") == 0) {
                /* Probed (and reached by curl) as 127.0.0.1: no resolver involved. */
                r.family = AF_INET;
                r.address[0] = 127, r.address[3] = 1;
                r.loopback = true;
        }

        if (asprintf(&r.url, "%s://%s%s%s:%u", https ? "https" : "http", v6 ? "[" : "", h, v6 ? "]" : "",
                    (unsigned) p) < 0) {
                r.url = NULL;
                return -ENOMEM;
        }
        r.display = strdup(r.url);
        if (!r.display)
                return -ENOMEM;
        *ret = r;
        r = (NodeRpc){};
        return 0;
}

/* ---- config.toml -----------------------------------------------------------------------------------------
 */

static const char *skip_blank(const char *p, const char *e) {
        while (p < e && (*p == ' ' || *p == '\t'))
                p++;
        return p;
}

int cometbft_config_rpc_laddr(const char *text, size_t len, char **ret) {
        const char *p = text, *end = text + len;
        bool in_rpc = false;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)) ?: end;
                const char *s = skip_blank(p, eol);
                const char *next = eol < end ? eol + 1 : end;

                if (s < eol && *s == '[') {
                        /* "[rpc]", with blanks allowed inside the brackets; "[[x]]" arrays are other
                         * sections. */
                        const char *q = skip_blank(s + 1, eol);
                        in_rpc = (size_t) (eol - q) >= 3 && memcmp(q, "rpc", 3) == 0 &&
                                (q = skip_blank(q + 3, eol)) < eol && *q == ']';
                } else if (in_rpc && (size_t) (eol - s) > 5 && memcmp(s, "laddr", 5) == 0) {
                        const char *q = skip_blank(s + 5, eol);
                        if (q < eol && *q == '=') {
                                q = skip_blank(q + 1, eol);
                                if (q < eol && (*q == '"' || *q == '\'')) {
                                        char quote = *q++;
                                        const char *close = memchr(q, quote, (size_t) (eol - q));
                                        /* Escapes are not expected in an address: a value with one is not
                                         * read. */
                                        if (close && !memchr(q, '\\', (size_t) (close - q)) &&
                                                !memchr(q, 0, (size_t) (close - q))) {
                                                char *v = strndup(q, (size_t) (close - q));
                                                if (!v)
                                                        return -ENOMEM;
                                                *ret = v;
                                                return 1;
                                        }
                                }
                        }
                }
                p = next;
        }
        return 0;
}

/* ---- JSON-RPC answers ------------------------------------------------------------------------------------
 */

static int json_parse(const char *data, size_t len, json_object **ret, const char **ret_reason) {
        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new_ex(64);
        if (!tok)
                return -ENOMEM;
        if (len > INT32_MAX || memchr(data, 0, len)) {
                *ret_reason = "the answer is not JSON";
                return -EBADMSG;
        }
        json_object *o = json_tokener_parse_ex(tok, data, (int) len);
        if (!o && json_tokener_get_error(tok) == json_tokener_continue)
                o = json_tokener_parse_ex(tok, "", 1);
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                *ret_reason = "the answer is not JSON";
                return -EBADMSG;
        }
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                if (!isspace((unsigned char) data[i])) {
                        json_object_put(o);
                        *ret_reason = "the answer has bytes after its JSON";
                        return -EBADMSG;
                }
        *ret = o;
        return 0;
}

/* The "result" object of a JSON-RPC answer (or the answer itself when it is not wrapped). */
static int json_rpc_result(json_object *root, json_object **ret, const char **ret_reason) {
        json_object *o;
        if (!json_object_is_type(root, json_type_object)) {
                *ret_reason = "the answer is not a JSON object";
                return -EBADMSG;
        }
        if (json_object_object_get_ex(root, "error", &o) && o) {
                *ret_reason = "the node answered with an error";
                return -EBADMSG;
        }
        if (json_object_object_get_ex(root, "result", &o)) {
                if (!json_object_is_type(o, json_type_object)) {
                        *ret_reason = "the answer's \"result\" is not an object";
                        return -EBADMSG;
                }
                *ret = o;
                return 0;
        }
        *ret = root;
        return 0;
}

/* Parses a JSON-RPC answer: *ret_root owns it, *ret_result points into it. */
static int json_rpc_parse(const char *data, size_t len, json_object **ret_root, json_object **ret_result,
        const char **ret_reason) {
        json_object *root = NULL;
        int r = json_parse(data, len, &root, ret_reason);
        if (r < 0)
                return r;
        r = json_rpc_result(root, ret_result, ret_reason);
        if (r < 0) {
                json_object_put(root);
                return r;
        }
        *ret_root = root;
        return 0;
}

static json_object *json_path(json_object *o, const char *a, const char *b) {
        json_object *x;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, a, &x))
                return NULL;
        if (!b)
                return x;
        if (!json_object_is_type(x, json_type_object) || !json_object_object_get_ex(x, b, &x))
                return NULL;
        return x;
}

/* CometBFT writes int64 as decimal strings; older versions and other servers as numbers. */
static int json_int64(json_object *o, int64_t *ret) {
        if (json_object_is_type(o, json_type_string))
                return parse_int64(json_object_get_string(o), ret);
        if (json_object_is_type(o, json_type_int)) {
                errno = 0;
                int64_t v = json_object_get_int64(o);
                if (errno != 0)
                        return -ERANGE;
                *ret = v;
                return 0;
        }
        return -EINVAL;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        /* Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date. */
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static int digits(const char *s, size_t n, unsigned *ret) {
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return -EINVAL;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int rfc3339_parse(const char *s, usec_t *ret) {
        unsigned Y, M, D, h, m, sec, usec = 0;
        if (strlen(s) < 20 || digits(s, 4, &Y) < 0 || s[4] != '-' || digits(s + 5, 2, &M) < 0 ||
                s[7] != '-' || digits(s + 8, 2, &D) < 0 || (s[10] != 'T' && s[10] != 't') ||
                digits(s + 11, 2, &h) < 0 || s[13] != ':' || digits(s + 14, 2, &m) < 0 || s[16] != ':' ||
                digits(s + 17, 2, &sec) < 0)
                return -EINVAL;
        static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60)
                return -EINVAL;
        const char *p = s + 19;
        if (*p == '.') {
                p++;
                size_t n = 0;
                for (; isdigit((unsigned char) p[n]); n++)
                        if (n < 6)
                                usec = usec * 10 + (unsigned) (p[n] - '0');
                if (n == 0 || n > 9)
                        return -EINVAL;
                for (size_t i = n; i < 6; i++)
                        usec *= 10;
                p += n;
        }
        int64_t offset = 0;
        if (*p == 'Z' || *p == 'z')
                p++;
        else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
                unsigned oh, om;
                if (digits(p + 1, 2, &oh) < 0 || digits(p + 4, 2, &om) < 0 || oh > 23 || om > 59)
                        return -EINVAL;
                offset = (int64_t) (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
                p += 6;
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;
        int64_t t = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec - offset;
        if (t < 0)
                return -EINVAL;
        *ret = (usec_t) t * USEC_PER_SEC + usec;
        return 0;
}

int rpc_status_parse(const char *json, size_t len, RpcStatus *ret, const char **ret_reason) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *result, *o;
        int r = json_rpc_parse(json, len, &root, &result, ret_reason);
        if (r < 0)
                return r;
        json_object *sync = json_path(result, "sync_info", NULL);
        if (!json_object_is_type(sync, json_type_object)) {
                *ret_reason = "the status has no \"sync_info\"";
                return -EBADMSG;
        }
        RpcStatus s = {};
        if (!(o = json_path(sync, "latest_block_height", NULL)) || json_int64(o, &s.height) < 0 ||
                s.height < 0) {
                *ret_reason = "the status has no valid \"latest_block_height\"";
                return -EBADMSG;
        }
        o = json_path(sync, "latest_block_time", NULL);
        if (!json_object_is_type(o, json_type_string) ||
                rfc3339_parse(json_object_get_string(o), &s.block_time) < 0) {
                *ret_reason = "the status has no valid \"latest_block_time\"";
                return -EBADMSG;
        }
        o = json_path(sync, "catching_up", NULL);
        if (!json_object_is_type(o, json_type_boolean)) {
                *ret_reason = "the status has no valid \"catching_up\"";
                return -EBADMSG;
        }
        s.catching_up = json_object_get_boolean(o);
        *ret = s;
        return 0;
}

int rpc_blockchain_parse(
        const char *json, size_t len, BlockSample *ret, size_t max, const char **ret_reason) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *result;
        int r = json_rpc_parse(json, len, &root, &result, ret_reason);
        if (r < 0)
                return r;
        json_object *metas = json_path(result, "block_metas", NULL);
        if (!json_object_is_type(metas, json_type_array)) {
                *ret_reason = "the answer has no \"block_metas\" list";
                return -EBADMSG;
        }
        size_t n = 0;
        for (size_t i = 0; i < json_object_array_length(metas) && n < max; i++) {
                json_object *hd = json_path(json_object_array_get_idx(metas, i), "header", NULL);
                json_object *h = json_path(hd, "height", NULL), *t = json_path(hd, "time", NULL);
                BlockSample b;
                if (!h || json_int64(h, &b.height) < 0 || b.height <= 0 ||
                        !json_object_is_type(t, json_type_string) ||
                        rfc3339_parse(json_object_get_string(t), &b.time) < 0) {
                        *ret_reason = "a block of the list has no valid height or time";
                        return -EBADMSG;
                }
                ret[n++] = b;
        }
        return (int) n;
}

int base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len) {
        while (len > 0 && s[len - 1] == '=')
                len--;
        if (len % 4 == 1)
                return -EINVAL;
        _cleanup_free_ uint8_t *out = malloc(len / 4 * 3 + 3);
        if (!out)
                return -ENOMEM;
        size_t n = 0;
        uint32_t acc = 0;
        unsigned bits = 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                        : c >= 'a' && c <= 'z' ? c - 'a' + 26
                        : c >= '0' && c <= '9' ? c - '0' + 52
                        : c == '+'             ? 62
                        : c == '/'             ? 63
                                               : -1;
                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (uint8_t) (acc >> bits);
                }
        }
        /* The bits left over must be zero (the canonical encoding). */
        if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
                return -EINVAL;
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}

int current_plan_decode(const uint8_t *data, size_t len, UpgradePlan **ret, const char **ret_reason) {
        if (len == 0)
                return 0;
        Cosmos__Upgrade__V1beta1__QueryCurrentPlanResponse *m =
                cosmos__upgrade__v1beta1__query_current_plan_response__unpack(NULL, len, data);
        if (!m) {
                *ret_reason = "the plan is not a valid protobuf QueryCurrentPlanResponse";
                return -EBADMSG;
        }
        int r = 0;
        const Cosmos__Upgrade__V1beta1__Plan *p = m->plan;
        if (!p)
                goto finish;
        if (isempty(p->name)) {
                *ret_reason = "the plan has no name";
                r = -EBADMSG;
                goto finish;
        }
        if (p->height <= 0) {
                *ret_reason = "the plan has no height (a plan by time is not supported since SDK 0.46)";
                r = -EBADMSG;
                goto finish;
        }
        r = upgrade_plan_new(p->name, p->height, NULL, p->info, ret);
        if (r >= 0)
                r = 1;
finish:
        cosmos__upgrade__v1beta1__query_current_plan_response__free_unpacked(m, NULL);
        return r;
}

int rpc_current_plan_parse(const char *json, size_t len, UpgradePlan **ret, const char **ret_reason) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *result, *o;
        int r = json_rpc_parse(json, len, &root, &result, ret_reason);
        if (r < 0)
                return r;
        json_object *resp = json_path(result, "response", NULL);
        if (!json_object_is_type(resp, json_type_object)) {
                *ret_reason = "the answer has no \"response\"";
                return -EBADMSG;
        }
        int64_t code = 0;
        if ((o = json_path(resp, "code", NULL)) && json_int64(o, &code) < 0) {
                *ret_reason = "the response's \"code\" is not a number";
                return -EBADMSG;
        }
        if (code != 0) {
                *ret_reason = "the query failed on the node (is x/upgrade part of this chain?)";
                return -EBADMSG;
        }
        o = json_path(resp, "value", NULL);
        if (!o || json_object_is_type(o, json_type_null))
                return 0;
        if (!json_object_is_type(o, json_type_string)) {
                *ret_reason = "the response's \"value\" is not a string";
                return -EBADMSG;
        }
        _cleanup_free_ uint8_t *bytes = NULL;
        size_t n;
        r = base64_decode(json_object_get_string(o), (size_t) json_object_get_string_len(o), &bytes, &n);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_reason = "the response's \"value\" is not base64";
                return -EBADMSG;
        }
        return current_plan_decode(bytes, n, ret, ret_reason);
}
