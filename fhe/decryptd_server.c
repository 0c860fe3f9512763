// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil-decryptd's server: one ring thread drives io_uring (multishot accept,
 * recv from a provided-buffer ring and straight into request buffers, send),
 * a fixed pool of workers runs the requests from a bounded queue. When the
 * queue is full the ring thread answers "busy" at once, so memory stays
 * bounded whatever the load.
 *
 * Receiving: one recv is armed per connection at a time. The head of every
 * frame (and every small frame) arrives in a buffer picked from the
 * provided-buffer ring; once the header says how long the frame is, the rest
 * of a frame that did not fit is received straight into the connection's
 * request buffer with one MSG_WAITALL recv, so a 200 KB request costs two
 * completions and no copy out of the ring. The request buffer goes to the
 * worker with the job and comes back to the connection as its spare, so a
 * busy connection does not allocate per request; everything is freed when
 * the connection closes (and trimmed when none is left).
 *
 * Fallbacks: a kernel without buffer rings (< 5.19) or multishot accept
 * gets single-shot accept and recv into a buffer per connection; "io":
 * "basic" in the config forces that path.
 *
 * A connection lives until every operation that names it has completed
 * (refs): closing shuts the socket down, the armed recv then completes, and
 * the last completion frees it.
 */
#include "fhe/decryptd.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <time.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "attest/eventlog.h"
#include "lib/cleanup.h"
#include "lib/frame.h"
#include "lib/log.h"

#define RING_ENTRIES 1024
#define BGID 7
#define NBUFS 256		/* provided buffers: 256 x 16 KiB */
#define BUFSZ (16u << 10)
#define IN_CAP (FRAME_HDR_LEN + DECRYPTD_REQ_MAX)
#define REPLY_CAP (FRAME_HDR_LEN + DECRYPTD_REPLY_MAX)

enum tag { TAG_ACCEPT = 1, TAG_RECV, TAG_SEND, TAG_EVENT, TAG_SIGNAL, TAG_IGNORE };

struct conn {
	int fd;
	unsigned int refs;		/* armed ops + a job in flight */
	bool closing, recv_armed, busy, close_after_send;
	bool direct;			/* the armed recv writes into in, not a ring buffer */
	const struct decryptd_container *who;
	uint8_t *in;
	size_t in_len, in_cap;
	size_t body_want;		/* rest of the frame in `in` to receive directly */
	uint8_t *spare;			/* a request buffer back from a worker, for reuse */
	size_t spare_cap;
	uint8_t *out;
	size_t out_len, out_off;
	uint8_t *rbuf;			/* basic mode */
};

struct job {
	struct conn *c;
	const char *caller;	/* container name, owned by the config */
	uint8_t *req_buf;	/* owned; req points into it */
	size_t req_cap;
	uint8_t *req;
	size_t req_len;
	uint8_t *reply;
	int reply_len;
	bool close_after;
	struct job *next;
};

struct decryptd_server {
	const struct decryptd_config *cfg;
	struct io_uring ring;
	bool ring_ok;
	int lfd, efd, sfd;
	int rfd;			/* receipts, -1 without */
	bool multishot_accept, bufring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	unsigned int n_conn;
	uint64_t ev_val;
	struct signalfd_siginfo si;
	bool stop;

	/* worker pool */
	pthread_t *threads;
	unsigned int n_threads;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job **queue;
	unsigned int q_head, q_len;
	bool quit;
	struct job *done;		/* completed, under lock */
};

/*
 * Request buffers: small ones from malloc, large ones (a 200 KB ciphertext)
 * mapped on their own, so freeing one always gives its memory back. Heap
 * memory freed in the middle cannot be (the process is mlockall'ed, and
 * MADV_DONTNEED does not apply to locked pages), and RSS must follow the load.
 */
#define BIG_BUF (64u << 10)

static void *buf_alloc(size_t cap)
{
	void *p;

	if (cap < BIG_BUF)
		return malloc(cap);
	p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void buf_free(void *p, size_t cap)
{
	if (!p)
		return;
	if (cap < BIG_BUF)
		free(p);
	else
		munmap(p, cap);
}

static void *ud(void *p, enum tag t)
{
	return (void *)((uintptr_t)p | t);
}

static struct io_uring_sqe *sqe_get(struct decryptd_server *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
	}
	return sqe;	/* non-NULL after a submit: the SQ was just emptied */
}

/* ---- workers ------------------------------------------------------------------ */

/*
 * One AAEL record per decryption in the receipts file (its own log: the
 * register field is 0 and nothing is extended). A write failure is logged,
 * never fatal: the receipt is evidence, not a gate.
 */
static void write_receipt(struct decryptd_server *s, const struct job *j,
			  const struct decryptd_request *req)
{
	char text[512], hexd[65];
	uint8_t md[32], *rec;
	unsigned int ml;
	size_t len;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return;
	}
	for (unsigned int i = 0; i < req->n_ct; i++)
		EVP_DigestUpdate(ctx, req->ct[i], req->ct_len[i]);
	EVP_DigestFinal_ex(ctx, md, &ml);
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 32; i++)
		snprintf(hexd + 2 * i, 3, "%02x", md[i]);
	snprintf(text, sizeof(text), "model=%s ct=%s caller=%s time=%lld", req->name, hexd,
		 j->caller, (long long)time(NULL));
	if (eventlog_aael_encode(0, EVENTLOG_ALG_SHA256, "veil-decryptd", "decrypt", text, &rec,
				 &len) < 0)
		return;
	/* one write per record with O_APPEND: records of concurrent workers never interleave */
	if (write(s->rfd, rec, len) != (ssize_t)len)
		log_warn("Failed to append a decryption receipt: %m");
	free(rec);
}

/* Builds the reply into out (REPLY_CAP bytes); returns its length. */
static int run_request(struct decryptd_server *s, struct job *j, uint8_t *out)
{
	struct decryptd_request req;
	char msg[DECRYPTD_MSG_MAX + 1];
	double y[DECRYPTD_OUT_MAX];
	size_t n;
	int r;

	r = decryptd_parse_request(j->req, j->req_len, &req, msg);
	if (r < 0) {	/* parsed once already by the ring thread: cannot happen */
		j->close_after = true;
		return decryptd_build_reply(req.id, DECRYPTD_INTERNAL, "internal", 8, out,
					    REPLY_CAP);
	}
	if (req.op == DECRYPTD_OP_PING) {
		return decryptd_build_reply(req.id, DECRYPTD_OK, req.body, req.body_len, out,
					    REPLY_CAP);
	}
	r = decryptd_model_decrypt(decryptd_config_model(s->cfg, req.name), &req, y,
				   DECRYPTD_OUT_MAX, &n, msg);
	if (r == 0) {
		if (s->rfd >= 0)
			write_receipt(s, j, &req);
		r = decryptd_build_outputs(req.id, y, n, out, REPLY_CAP);
		explicit_bzero(y, n * sizeof(double));
		return r;
	}
	j->close_after = r == -EBADMSG;
	return decryptd_build_reply(req.id,
				    r == -EBADMSG ? DECRYPTD_BAD_CIPHERTEXT : DECRYPTD_INTERNAL, msg,
				    strlen(msg), out, REPLY_CAP);
}

static void run_job(struct decryptd_server *s, struct job *j)
{
	uint8_t out[REPLY_CAP];
	int n = run_request(s, j, out);

	/* exactly the reply's size: memory follows the load, not the caps */
	if (n > 0)
		j->reply = malloc((size_t)n);
	if (j->reply) {
		memcpy(j->reply, out, (size_t)n);
		j->reply_len = n;
	}
	explicit_bzero(out, n > 0 ? (size_t)n : 0);
}



static void *worker(void *arg)
{
	struct decryptd_server *s = arg;
	uint64_t one = 1;

	for (;;) {
		struct job *j;
		bool was_empty;

		pthread_mutex_lock(&s->lock);
		while (!s->q_len && !s->quit)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->quit) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		j = s->queue[s->q_head];
		s->q_head = (s->q_head + 1) % s->cfg->queue;
		s->q_len--;
		pthread_mutex_unlock(&s->lock);

		run_job(s, j);

		pthread_mutex_lock(&s->lock);
		was_empty = !s->done;
		j->next = s->done;
		s->done = j;
		pthread_mutex_unlock(&s->lock);
		/*
		 * One wake-up per batch: a non-empty list already has one on its
		 * way, and the ring thread takes the whole list when it comes.
		 * Cannot fail: the counter does not come near overflow.
		 */
		if (was_empty)
			(void)!write(s->efd, &one, sizeof(one));
	}
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	buf_free(j->req_buf, j->req_cap);
	if (j->reply) {
		explicit_bzero(j->reply, (size_t)j->reply_len);	/* decrypted outputs */
		free(j->reply);
	}
	free(j);
}

/* ---- connections ------------------------------------------------------------- */

static void conn_free(struct decryptd_server *s, struct conn *c)
{
	int fd = c->fd;

	buf_free(c->in, c->in_cap);
	buf_free(c->spare, c->spare_cap);
	free(c->out);
	free(c->rbuf);
	free(c);
	/* idle again: give a burst's heap back, so RSS follows the load */
	if (--s->n_conn == 0)
		malloc_trim(0);
	/* Last: a peer that sees the close sees the memory already returned. */
	close(fd);
}

static void conn_put(struct decryptd_server *s, struct conn *c)
{
	c->refs--;
	if (c->closing && c->refs == 0)
		conn_free(s, c);
}

static void conn_close(struct decryptd_server *s, struct conn *c)
{
	if (!c->closing) {
		c->closing = true;
		/* completes the armed recv; its final completion drops the last ref */
		shutdown(c->fd, SHUT_RDWR);
	}
	if (c->refs == 0)
		conn_free(s, c);
}

static void arm_recv(struct decryptd_server *s, struct conn *c)
{
	struct io_uring_sqe *sqe = sqe_get(s);

	c->direct = c->body_want > 0;
	if (c->direct) {
		io_uring_prep_recv(sqe, c->fd, c->in + c->in_len, c->body_want, MSG_WAITALL);
	} else if (s->bufring) {
		io_uring_prep_recv(sqe, c->fd, NULL, BUFSZ, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	} else {
		if (!c->rbuf)
			c->rbuf = malloc(BUFSZ);
		if (!c->rbuf) {
			conn_close(s, c);
			return;
		}
		io_uring_prep_recv(sqe, c->fd, c->rbuf, BUFSZ, 0);
	}
	io_uring_sqe_set_data(sqe, ud(c, TAG_RECV));
	c->recv_armed = true;
	c->refs++;
}

/* Sends buf (owned) as the reply; the connection is busy until it is out. */
static void send_reply(struct decryptd_server *s, struct conn *c, uint8_t *buf, size_t len,
		       bool close_after)
{
	struct io_uring_sqe *sqe;

	c->out = buf;
	c->out_len = len;
	c->out_off = 0;
	c->busy = true;
	c->close_after_send = close_after;
	sqe = sqe_get(s);
	io_uring_prep_send(sqe, c->fd, c->out, c->out_len, MSG_NOSIGNAL);
	io_uring_sqe_set_data(sqe, ud(c, TAG_SEND));
	c->refs++;
}

static void reply_error(struct decryptd_server *s, struct conn *c, uint32_t id,
			enum decryptd_status st, const char *msg, bool close_after)
{
	size_t len = FRAME_HDR_LEN + DECRYPTD_HDR_LEN + strnlen(msg, DECRYPTD_MSG_MAX);
	uint8_t *buf = malloc(len);
	int n;

	if (!buf) {
		conn_close(s, c);
		return;
	}
	n = decryptd_build_reply(id, st, msg, strnlen(msg, DECRYPTD_MSG_MAX), buf, len);
	log_debug("connection %d: %s: %s", c->fd, decryptd_status_name(st), msg);
	send_reply(s, c, buf, (size_t)n, close_after);
}

/* A reply written at once on a fresh socket (accept-time refusals). */
static void refuse_now(int fd, enum decryptd_status st, const char *msg)
{
	uint8_t buf[FRAME_HDR_LEN + DECRYPTD_HDR_LEN + DECRYPTD_MSG_MAX];
	int n = decryptd_build_reply(0, st, msg, strlen(msg), buf, sizeof(buf));

	if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("Failed to send refusal: %m");
	close(fd);
}

static bool enqueue(struct decryptd_server *s, struct job *j)
{
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = s->q_len < s->cfg->queue;
	if (ok) {
		s->queue[(s->q_head + s->q_len) % s->cfg->queue] = j;
		s->q_len++;
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

/* Parses what the connection has buffered and starts at most one request. */
static void process_input(struct decryptd_server *s, struct conn *c)
{
	const struct decryptd_model *m;
	struct decryptd_request req;
	char msg[DECRYPTD_MSG_MAX + 1];
	const uint8_t *payload;
	struct job *j;
	size_t plen;
	int r;

	if (c->busy || c->closing)
		return;
	r = frame_parse(c->in, c->in_len, DECRYPTD_REQ_MAX, &payload, &plen);
	if (r == -EMSGSIZE) {
		snprintf(msg, sizeof(msg), "frame length exceeds %u bytes", DECRYPTD_REQ_MAX);
		reply_error(s, c, 0, DECRYPTD_BAD_REQUEST, msg, true);
		return;
	}
	if (r <= 0)
		return;
	if (decryptd_parse_request(payload, plen, &req, msg) < 0) {
		reply_error(s, c, req.id, DECRYPTD_BAD_REQUEST, msg, true);
		return;
	}
	if (req.op == DECRYPTD_OP_DECRYPT) {
		m = decryptd_config_model(s->cfg, req.name);
		if (!m) {
			snprintf(msg, sizeof(msg), "no model '%s' here", req.name);
			reply_error(s, c, req.id, DECRYPTD_UNKNOWN_MODEL, msg, false);
			goto consumed;
		}
		if (!decryptd_model_granted(m, c->who->name)) {
			log_warn("Container '%s' denied model '%s'", c->who->name, m->name);
			snprintf(msg, sizeof(msg), "container '%s' is not granted model '%s'",
				 c->who->name, m->name);
			reply_error(s, c, req.id, DECRYPTD_DENIED, msg, true);
			return;
		}
	}
	j = calloc(1, sizeof(*j));
	if (j && (size_t)r == c->in_len) {
		/* the usual case, one whole frame buffered: the job takes the buffer */
		j->req_cap = c->in_cap;
		j->req_buf = TAKE_PTR(c->in);
		j->req = j->req_buf + FRAME_HDR_LEN;
		c->in_len = c->in_cap = 0;
	} else if (j) {
		j->req_cap = plen;
		j->req_buf = buf_alloc(plen);
		j->req = j->req_buf;
		if (j->req)
			memcpy(j->req, payload, plen);
	}
	if (!j || !j->req) {
		job_free(j);
		reply_error(s, c, req.id, DECRYPTD_BUSY, "out of memory", false);
		goto consumed;
	}
	j->req_len = plen;
	j->c = c;
	j->caller = c->who->name;
	if (!enqueue(s, j)) {
		job_free(j);
		reply_error(s, c, req.id, DECRYPTD_BUSY, "queue full", false);
		goto consumed;
	}
	c->busy = true;
	c->refs++;
consumed:
	if (!c->in)
		return;		/* the job took the buffer: nothing else was in it */
	memmove(c->in, c->in + r, c->in_len - (size_t)r);
	c->in_len -= (size_t)r;
}

/*
 * Room for want bytes in c->in: the spare buffer if it is large enough, else
 * a new one. Small buffers come in powers of two, as the heap likes them.
 */
static int in_reserve(struct conn *c, size_t want)
{
	uint8_t *nb;

	if (want <= c->in_cap)
		return 0;
	if (want < BIG_BUF) {
		size_t p2 = 4096;

		while (p2 < want)
			p2 *= 2;
		want = p2;
	}
	if (c->spare && c->spare_cap >= want) {
		if (c->in_len)
			memcpy(c->spare, c->in, c->in_len);
		buf_free(c->in, c->in_cap);
		c->in = TAKE_PTR(c->spare);
		c->in_cap = c->spare_cap;
		c->spare_cap = 0;
		return 0;
	}
	if (want < BIG_BUF) {
		nb = realloc(c->in, want);
	} else {
		nb = buf_alloc(want);
		if (nb && c->in_len)
			memcpy(nb, c->in, c->in_len);
		if (nb)
			buf_free(c->in, c->in_cap);
	}
	if (!nb)
		return -ENOMEM;
	c->in = nb;
	c->in_cap = want;
	return 0;
}

/* The whole size of the frame at the start of in once p[0..n) is appended; 0: unknown or over the cap. */
static size_t frame_need(const struct conn *c, const uint8_t *p, size_t n)
{
	uint8_t h[FRAME_HDR_LEN];
	size_t k = 0, len;

	for (; k < FRAME_HDR_LEN && k < c->in_len; k++)
		h[k] = c->in[k];
	for (size_t i = 0; k < FRAME_HDR_LEN && i < n; k++, i++)
		h[k] = p[i];
	if (k < FRAME_HDR_LEN)
		return 0;
	len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	return len > DECRYPTD_REQ_MAX ? 0 : FRAME_HDR_LEN + len;
}

static int append_input(struct conn *c, const uint8_t *p, size_t n)
{
	size_t need = frame_need(c, p, n);
	int r;

	if (n > IN_CAP - c->in_len)
		return -EMSGSIZE;
	if (c->in_len + n > c->in_cap) {
		size_t cap = c->in_cap ? c->in_cap : 4096;

		while (cap < c->in_len + n)
			cap *= 2;
		/* a large frame gets its own buffer at once, no growing through small ones */
		if (need > c->in_len + n && need >= BIG_BUF)
			cap = need;
		r = in_reserve(c, cap > IN_CAP ? IN_CAP : cap);
		if (r < 0)
			return r;
	}
	memcpy(c->in + c->in_len, p, n);
	c->in_len += n;
	return 0;
}

/*
 * Once a frame's header is in and the frame is not, its buffer is made
 * exactly as large as the frame and the rest is received straight into it.
 * A length over the cap is left for process_input to refuse. Pages of a
 * buffer a peer announces but never fills are never touched, so they cost
 * address space, not memory.
 */
static void plan_body(struct conn *c)
{
	size_t len, need;

	if (c->direct)
		return;		/* armed into in: it must not move, and it knows its length */
	c->body_want = 0;
	if (c->in_len < FRAME_HDR_LEN || c->closing)
		return;
	len = (size_t)c->in[0] << 24 | (size_t)c->in[1] << 16 | (size_t)c->in[2] << 8 | c->in[3];
	if (len > DECRYPTD_REQ_MAX)
		return;
	need = FRAME_HDR_LEN + len;
	if (need <= c->in_len || in_reserve(c, need) < 0)
		return;		/* whole already, or no memory: the ring path carries on */
	c->body_want = need - c->in_len;
}

static void on_recv(struct decryptd_server *s, struct conn *c, int res, unsigned int flags)
{
	bool more = flags & IORING_CQE_F_MORE;
	const uint8_t *data = NULL;
	unsigned int bid = 0;
	int r;

	if (!more)
		c->recv_armed = false;
	if (c->direct) {
		/* straight into the request buffer: nothing to copy */
		c->direct = false;
		if (res > 0 && !c->closing) {
			c->in_len += (size_t)res;
			c->body_want -= (size_t)res;
		}
	} else if (flags & IORING_CQE_F_BUFFER) {
		bid = flags >> IORING_CQE_BUFFER_SHIFT;
		data = s->bufs + (size_t)bid * BUFSZ;
	} else {
		data = c->rbuf;
	}
	if (res > 0 && !c->closing && data) {
		r = append_input(c, data, (size_t)res);
		if (r < 0) {
			c->in_len = 0;
			reply_error(s, c, 0, DECRYPTD_BAD_REQUEST,
				    "more data than one request in flight allows", true);
		}
	}
	if (flags & IORING_CQE_F_BUFFER) {
		io_uring_buf_ring_add(s->br, s->bufs + (size_t)bid * BUFSZ, BUFSZ, (unsigned short)bid,
				      io_uring_buf_ring_mask(NBUFS), 0);
		io_uring_buf_ring_advance(s->br, 1);
	}
	if (res == -EINVAL && s->bufring && !c->closing && data == NULL && !c->body_want) {
		log_info("Kernel refused recv from the buffer ring; using connection buffers");
		s->bufring = false;
		arm_recv(s, c);
		conn_put(s, c);
		return;
	}
	if (res == 0 || (res < 0 && res != -ENOBUFS)) {
		/* EOF or error: a request cut short still gets its answer if it can */
		if (!c->closing && !c->busy && c->in_len > 0)
			reply_error(s, c, 0, DECRYPTD_BAD_REQUEST, "connection closed mid-frame",
				    true);
		else if (!c->busy)
			conn_close(s, c);
		else
			c->close_after_send = true;
		if (!more)
			conn_put(s, c);
		return;
	}
	if (res > 0) {
		process_input(s, c);
		if (!c->body_want)
			plan_body(c);
	}
	if (!more) {
		if (!c->closing)
			arm_recv(s, c);
		conn_put(s, c);		/* may free c when closing */
	}
}

static void on_send(struct decryptd_server *s, struct conn *c, int res)
{
	if (res < 0 || c->closing) {
		free(c->out);
		c->out = NULL;
		c->busy = false;
		conn_close(s, c);
		conn_put(s, c);
		return;
	}
	c->out_off += (size_t)res;
	if (c->out_off < c->out_len) {
		struct io_uring_sqe *sqe = sqe_get(s);

		io_uring_prep_send(sqe, c->fd, c->out + c->out_off, c->out_len - c->out_off,
				   MSG_NOSIGNAL);
		io_uring_sqe_set_data(sqe, ud(c, TAG_SEND));
		return;		/* the ref carries over */
	}
	explicit_bzero(c->out, c->out_len);
	free(c->out);
	c->out = NULL;
	c->busy = false;
	if (c->close_after_send) {
		conn_close(s, c);
		conn_put(s, c);
		return;
	}
	conn_put(s, c);
	process_input(s, c);
	plan_body(c);	/* a frame that came in while busy: applies to the next recv */
}

static void arm_accept(struct decryptd_server *s)
{
	struct io_uring_sqe *sqe = sqe_get(s);

	if (s->multishot_accept)
		io_uring_prep_multishot_accept(sqe, s->lfd, NULL, NULL, SOCK_CLOEXEC);
	else
		io_uring_prep_accept(sqe, s->lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data(sqe, ud(NULL, TAG_ACCEPT));
}

static void on_accept(struct decryptd_server *s, int res, unsigned int flags)
{
	const struct decryptd_container *who;
	char cg[512];
	struct conn *c;
	int r;

	if (res == -EINVAL && s->multishot_accept) {
		log_info("Kernel refused multishot accept; using single-shot accept");
		s->multishot_accept = false;
		arm_accept(s);
		return;
	}
	if (!(flags & IORING_CQE_F_MORE))
		arm_accept(s);
	if (res < 0) {
		log_warn("Failed to accept: %s", strerror(-res));
		return;
	}
	if (s->n_conn >= s->cfg->max_conn) {
		refuse_now(res, DECRYPTD_BUSY, "too many connections");
		return;
	}
	r = decryptd_peer_container(res, s->cfg, &who, cg, sizeof(cg));
	if (r < 0) {
		log_warn("Refused a peer%s%s%s: %s", r == -EACCES ? " in cgroup '" : "",
			 r == -EACCES ? cg : "", r == -EACCES ? "'" : "",
			 r == -EACCES ? "not a known container" : strerror(-r));
		refuse_now(res, DECRYPTD_DENIED, "caller is not an authorized container");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		refuse_now(res, DECRYPTD_BUSY, "out of memory");
		return;
	}
	c->fd = res;
	c->who = who;
	s->n_conn++;
	arm_recv(s, c);
}

static void arm_event(struct decryptd_server *s)
{
	struct io_uring_sqe *sqe = sqe_get(s);

	io_uring_prep_read(sqe, s->efd, &s->ev_val, sizeof(s->ev_val), 0);
	io_uring_sqe_set_data(sqe, ud(NULL, TAG_EVENT));
}

static void on_event(struct decryptd_server *s)
{
	struct job *list, *j;

	pthread_mutex_lock(&s->lock);
	list = s->done;
	s->done = NULL;
	pthread_mutex_unlock(&s->lock);
	while ((j = list)) {
		struct conn *c = j->c;

		list = j->next;
		if (c->closing || j->reply_len <= 0) {
			c->busy = false;
			if (!c->closing)
				conn_close(s, c);
			conn_put(s, c);
			job_free(j);
			continue;
		}
		c->refs--;	/* the job's ref; the send takes its own */
		send_reply(s, c, j->reply, (size_t)j->reply_len,
			   j->close_after || c->close_after_send);
		j->reply = NULL;
		if (!c->spare && j->req_cap >= BIG_BUF && j->req_cap > c->in_cap) {
			/* the connection's next request of this size needs no malloc */
			c->spare = TAKE_PTR(j->req_buf);
			c->spare_cap = j->req_cap;
		}
		job_free(j);
	}
	arm_event(s);
}

/* ---- setup -------------------------------------------------------------------- */

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	/* reachability is the bind mount's business; the gate is the peer check */
	if (chmod(path, 0666) < 0)
		return -errno;
	if (listen(fd, 4096) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static int setup_bufring(struct decryptd_server *s)
{
	struct io_uring_buf_reg reg = { 0 };
	size_t rsz = NBUFS * sizeof(struct io_uring_buf);
	int r;

	s->br = mmap(NULL, rsz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (s->br == MAP_FAILED) {
		s->br = NULL;
		return -errno;
	}
	s->bufs = malloc((size_t)NBUFS * BUFSZ);
	if (!s->bufs)
		return -ENOMEM;
	memset(s->bufs, 0, (size_t)NBUFS * BUFSZ);	/* fault in (and lock) now, not under load */
	reg.ring_addr = (unsigned long)s->br;
	reg.ring_entries = NBUFS;
	reg.bgid = BGID;
	r = io_uring_register_buf_ring(&s->ring, &reg, 0);
	if (r < 0)
		return r;
	io_uring_buf_ring_init(s->br);
	for (unsigned int i = 0; i < NBUFS; i++)
		io_uring_buf_ring_add(s->br, s->bufs + (size_t)i * BUFSZ, BUFSZ, (unsigned short)i,
				      io_uring_buf_ring_mask(NBUFS), (int)i);
	io_uring_buf_ring_advance(s->br, NBUFS);
	return 0;
}

/*
 * The ring may only accept, recv, send, read (eventfd, signalfd) and select
 * provided buffers; no registration after this. Should the process ever be
 * subverted, the ring cannot open files or sockets for it, and seccomp keeps
 * it from making a new ring.
 */
static int restrict_ring(struct decryptd_server *s)
{
	static const uint8_t ops[] = { IORING_OP_ACCEPT, IORING_OP_RECV, IORING_OP_SEND,
				       IORING_OP_READ };
	struct io_uring_restriction res[ARRAY_SIZE(ops) + 1];
	int r;

	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	res[ARRAY_SIZE(ops)].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[ARRAY_SIZE(ops)].sqe_flags = IOSQE_BUFFER_SELECT;
	/* Debian's liburing 2.3 declares these helpers but does not export them */
	if (syscall(__NR_io_uring_register, s->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res,
		    ARRAY_SIZE(res)) < 0)
		return -errno;
	r = (int)syscall(__NR_io_uring_register, s->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return r < 0 ? -errno : 0;
}

int decryptd_server_new(const struct decryptd_config *cfg, struct decryptd_server **ret)
{
	struct decryptd_server *s;
	struct io_uring_params p = { 0 };
	sigset_t mask;
	long ncpu;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->lfd = s->efd = s->sfd = s->rfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	*ret = s;	/* freed by the caller on error too */

	s->queue = calloc(cfg->queue, sizeof(*s->queue));
	if (!s->queue)
		return -ENOMEM;
	/* created disabled, so the op allowlist is in place before it can run anything */
	p.flags = IORING_SETUP_R_DISABLED;
	r = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
	if (r == -EINVAL) {	/* kernel < 5.10: no restrictions */
		memset(&p, 0, sizeof(p));
		r = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
	}
	if (r < 0) {
		log_err("Failed to set up io_uring: %s%s", strerror(-r),
			r == -EPERM || r == -ENOSYS ? " (is kernel.io_uring_disabled set?)" : "");
		return r;
	}
	s->ring_ok = true;
	s->multishot_accept = !cfg->io_basic;
	s->bufring = false;
	if (!cfg->io_basic) {
		r = setup_bufring(s);
		if (r < 0)
			log_info("No provided-buffer ring (%s); using single-shot recv", strerror(-r));
		else
			s->bufring = true;
	}
	if (p.flags & IORING_SETUP_R_DISABLED) {
		r = restrict_ring(s);
		if (r < 0) {
			log_err("Failed to restrict the io_uring to its operations: %s", strerror(-r));
			return r;
		}
	}
	if (cfg->receipts) {
		s->rfd = open(cfg->receipts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (s->rfd < 0)
			return log_err("Failed to open receipts '%s': %m", cfg->receipts);
	}
	s->lfd = listen_on(cfg->socket);
	if (s->lfd < 0) {
		log_err("Failed to listen on '%s': %s", cfg->socket, strerror(-s->lfd));
		return s->lfd;
	}
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);	/* workers inherit the mask */
	s->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (s->efd < 0 || s->sfd < 0)
		return -errno;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	s->n_threads = cfg->workers ? cfg->workers : (unsigned int)(ncpu > 0 ? ncpu : 1);
	s->threads = calloc(s->n_threads, sizeof(*s->threads));
	if (!s->threads)
		return -ENOMEM;
	for (unsigned int i = 0; i < s->n_threads; i++) {
		r = -pthread_create(&s->threads[i], NULL, worker, s);
		if (r < 0) {
			s->n_threads = i;
			return r;
		}
	}
	log_info("Listening on '%s': %u workers, queue %u, %s accept, %s recv%s", cfg->socket,
		 s->n_threads, cfg->queue, s->multishot_accept ? "multishot" : "single-shot",
		 s->bufring ? "buffer-ring + direct" : "connection-buffer",
		 p.flags & IORING_SETUP_R_DISABLED ? ", ring restricted to its ops" : "");
	return 0;
}

int decryptd_server_run(struct decryptd_server *s, bool seccomp)
{
	struct io_uring_sqe *sqe;
	int r;

	if (seccomp) {
		r = decryptd_seccomp();
		if (r < 0)
			return log_err("Failed to install the seccomp filter: %s", strerror(-r)), r;
	}
	/* from here on, untrusted bytes */
	arm_accept(s);
	arm_event(s);
	sqe = sqe_get(s);
	io_uring_prep_read(sqe, s->sfd, &s->si, sizeof(s->si), 0);
	io_uring_sqe_set_data(sqe, ud(NULL, TAG_SIGNAL));
	while (!s->stop) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		r = io_uring_submit_and_wait(&s->ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			log_err("io_uring_submit_and_wait: %s", strerror(-r));
			return r;
		}
		io_uring_for_each_cqe(&s->ring, head, cqe) {
			uintptr_t u = (uintptr_t)io_uring_cqe_get_data(cqe);
			void *ptr = (void *)(u & ~(uintptr_t)7);

			seen++;
			switch (u & 7) {
			case TAG_ACCEPT:
				on_accept(s, cqe->res, cqe->flags);
				break;
			case TAG_RECV:
				on_recv(s, ptr, cqe->res, cqe->flags);
				break;
			case TAG_SEND:
				on_send(s, ptr, cqe->res);
				break;
			case TAG_EVENT:
				on_event(s);
				break;
			case TAG_SIGNAL:
				log_info("Signal %u: stopping", s->si.ssi_signo);
				s->stop = true;
				break;
			default:
				break;
			}
		}
		io_uring_cq_advance(&s->ring, seen);
	}
	return 0;
}

void decryptd_server_free(struct decryptd_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (unsigned int i = 0; i < s->n_threads; i++)
		pthread_join(s->threads[i], NULL);
	free(s->threads);
	/* connections still open at exit go with the process */
	if (s->ring_ok)
		io_uring_queue_exit(&s->ring);
	if (s->br)
		munmap(s->br, NBUFS * sizeof(struct io_uring_buf));
	free(s->bufs);
	free(s->queue);
	/* the socket file stays: unlink is not on the allowlist, the next start replaces it */
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->efd >= 0)
		close(s->efd);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->rfd >= 0)
		close(s->rfd);
	free(s);
}
