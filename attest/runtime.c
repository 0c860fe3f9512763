// SPDX-License-Identifier: GPL-2.0-only
#include "attest/runtime.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"

#define CONTAINER_JSON_MAX 1024u
#define NAME_MAX_LEN 256u
#define DIGEST_STR_MAX 160u

static int container_event(const char *content, size_t len, json_t *containers, char *msg,
			   size_t msg_len)
{
	static const char *const keys[] = { "digest", "name", NULL };
	const char *name, *digest;
	struct vjson_err e;
	json_t *c;
	int r;

	r = vjson_parse(content, len, CONTAINER_JSON_MAX, 2, &c, &e);
	if (r < 0 || vjson_check_keys(c, "container", keys, &e) < 0 ||
	    vjson_get_string(c, "container", "name", NAME_MAX_LEN, &name, &e) < 0 ||
	    vjson_get_string(c, "container", "digest", DIGEST_STR_MAX, &digest, &e) < 0) {
		if (r == 0)
			json_decref(c);
		snprintf(msg, msg_len, "container event: %s", e.msg);
		return -EBADMSG;
	}
	r = json_array_append_new(containers, json_pack("{s:s, s:s}", "name", name, "digest", digest));
	json_decref(c);
	return r < 0 ? -ENOMEM : 0;
}

int attest_runtime_log_claims(const uint8_t *log, size_t len, uint32_t reg, uint16_t alg,
			      const uint8_t *quoted, json_t *claims, char *msg, size_t msg_len)
{
	uint8_t got[EVENTLOG_DIGEST_MAX];
	size_t dlen = eventlog_alg_size(alg), off;
	json_t *events, *containers;
	bool degraded = false;
	int r;

	r = eventlog_replay(log, len, reg, alg, got);
	if (r < 0) {
		snprintf(msg, msg_len, "the runtime event log is malformed");
		return -EBADMSG;
	}
	if (memcmp(got, quoted, dlen) != 0) {
		snprintf(msg, msg_len, "replaying the event log does not give register %u", reg);
		return -EKEYREJECTED;
	}
	events = json_array();
	containers = json_array();
	if (!events || !containers) {
		json_decref(events);
		json_decref(containers);
		return -ENOMEM;
	}
	off = eventlog_spec_header_len(log, len);
	r = 0;
	while (r == 0 && off < len) {
		struct eventlog_record rec;
		const char *t, *sp1, *sp2;
		json_t *ev;
		int n;

		if (len - off >= 8 && (memcmp(log + off, "\xff\xff\xff\xff\xff\xff\xff\xff", 8) == 0 ||
				       memcmp(log + off, "\0\0\0\0\0\0\0\0", 8) == 0))
			break;
		n = eventlog_parse_record(log + off, len - off, &rec);
		if (n < 0) {	/* replay parsed the same bytes, so this cannot happen */
			snprintf(msg, msg_len, "the runtime event log is malformed");
			r = -EBADMSG;
		}
		else
			off += (size_t)n;
		if (r < 0 || rec.reg != reg || !rec.text)
			continue;
		if (json_array_size(events) >= ATTEST_RUNTIME_EVENTS_MAX) {
			snprintf(msg, msg_len, "the runtime event log has more than %u events",
				 ATTEST_RUNTIME_EVENTS_MAX);
			r = -EBADMSG;
			break;
		}
		t = rec.text;
		sp1 = memchr(t, ' ', rec.text_len);
		sp2 = sp1 ? memchr(sp1 + 1, ' ', rec.text_len - (size_t)(sp1 + 1 - t)) : NULL;
		if (!sp1 || !sp2 || sp1 == t || sp2 == sp1 + 1 || memchr(t, 0, rec.text_len)) {
			snprintf(msg, msg_len, "an event is not '<domain> <operation> <content>'");
			r = -EBADMSG;
			break;
		}
		ev = json_pack("{s:s%, s:s%, s:s%}", "domain", t, (size_t)(sp1 - t), "operation",
			       sp1 + 1, (size_t)(sp2 - sp1 - 1), "content", sp2 + 1,
			       rec.text_len - (size_t)(sp2 + 1 - t));
		if (!ev) {
			/* jansson refuses only invalid UTF-8 here (or memory). */
			snprintf(msg, msg_len, "an event's text is not UTF-8");
			r = -EBADMSG;
			break;
		}
		if (json_array_append_new(events, ev) < 0) {
			r = -ENOMEM;
			break;
		}
		if ((size_t)(sp1 - t) != strlen(ATTEST_VEIL_DOMAIN) ||
		    memcmp(t, ATTEST_VEIL_DOMAIN, (size_t)(sp1 - t)) != 0)
			continue;
		if ((size_t)(sp2 - sp1 - 1) == strlen(ATTEST_VEIL_CONTAINER_OP) &&
		    memcmp(sp1 + 1, ATTEST_VEIL_CONTAINER_OP, (size_t)(sp2 - sp1 - 1)) == 0)
			r = container_event(sp2 + 1, rec.text_len - (size_t)(sp2 + 1 - t), containers,
					    msg, msg_len);
		else if ((size_t)(sp2 - sp1 - 1) == strlen(ATTEST_VEIL_DEGRADED_OP) &&
			 memcmp(sp1 + 1, ATTEST_VEIL_DEGRADED_OP, (size_t)(sp2 - sp1 - 1)) == 0)
			degraded = true;
	}
	if (r < 0) {
		json_decref(events);
		json_decref(containers);
		return r;
	}
	r = json_object_set_new(claims, "runtime_events", events);
	if (json_object_set_new(claims, "containers", containers) < 0 || r < 0 ||
	    json_object_set_new(claims, "degraded", json_boolean(degraded)) < 0)
		return -ENOMEM;
	return 0;
}
