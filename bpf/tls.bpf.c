// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TLS plaintext probes (bpf/README.md says what each program does and what the loader relies on):
 * uprobes on OpenSSL's SSL_write/SSL_read (+ _ex) and Go's crypto/tls.(*Conn).Write/Read copy the
 * plaintext into the `events` ring buffer; raw tracepoint programs on sock_send_length,
 * sock_recv_length and inet_sock_set_state name the socket and report its close (fentry on
 * tcp_sendmsg would be the direct hook, but a kernel in lockdown integrity mode refuses fentry).
 * Only tasks in the configured PID and network namespace are looked at.
 *
 * Built without BTF and CO-RE: uprobes read x86-64 pt_regs, kernel structs are read at offsets that
 * user space takes from the running kernel's BTF and writes into `config`.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tls.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

/* TCP states (include/net/tcp_states.h) */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8
#define TCP_LAST_ACK 9

/* The x86-64 register frame a uprobe program gets (the kernel's struct pt_regs). */
struct tls_pt_regs {
	__u64 r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	__u64 rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
};

/* Largest fd taken as real when read from a Go netFD (above: not a *net.TCPConn, report -1). */
#define GO_MAX_FD (1 << 20)
/* Offsets in Go's structs (bpf/README.md: Go 1.9 to at least 1.23, amd64). */
#define GO_IFACE_DATA 8   /* tls.Conn.conn (net.Conn interface): data word */
#define GO_NETFD_SYSFD 16 /* netFD.pfd (poll.FD) .Sysfd, after fdMutex{u64, u32, u32} */

#define THREADS 16384

struct tls_map_def config SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(struct tls_config),
	.max_entries = 1,
};

struct tls_map_def events SEC("maps") = {
	.type = BPF_MAP_TYPE_RINGBUF,
	.max_entries = 4 << 20,
};

struct tls_map_def lost SEC("maps") = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1,
};

struct tls_map_def ssl_calls SEC("maps") = {
	.type = BPF_MAP_TYPE_LRU_HASH,
	.key_size = sizeof(__u64),
	.value_size = sizeof(struct tls_call),
	.max_entries = THREADS,
};

struct tls_map_def go_calls SEC("maps") = {
	.type = BPF_MAP_TYPE_LRU_HASH,
	.key_size = sizeof(struct tls_go_key),
	.value_size = sizeof(struct tls_call),
	.max_entries = THREADS,
};

struct tls_map_def active_threads SEC("maps") = {
	.type = BPF_MAP_TYPE_LRU_HASH,
	.key_size = sizeof(__u64),
	.value_size = sizeof(__u32),
	.max_entries = THREADS,
};

struct tls_map_def thread_socks SEC("maps") = {
	.type = BPF_MAP_TYPE_LRU_HASH,
	.key_size = sizeof(__u64),
	.value_size = sizeof(struct tls_tuple),
	.max_entries = THREADS,
};

struct tls_map_def conn_bytes SEC("maps") = {
	.type = BPF_MAP_TYPE_LRU_HASH,
	.key_size = sizeof(struct tls_conn_key),
	.value_size = sizeof(struct tls_conn_bytes),
	.max_entries = 65536,
};

struct tls_map_def scratch SEC("maps") = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(struct tls_record_buf),
	.max_entries = 1,
};

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The first half of the scope test: the current task is in the configured PID namespace, which
 * also gives its pid/tid there (in `ns`). Returns the config, or 0 when out of scope or not
 * configured yet.
 */
static __always_inline struct tls_config *in_pid_scope(struct bpf_pidns_info *ns)
{
	__u32 zero = 0;
	struct tls_config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || cfg->ready != 1)
		return 0;
	if (bpf_get_ns_current_pid_tgid(cfg->pidns_dev, cfg->pidns_ino, ns, sizeof(*ns)) != 0)
		return 0;
	return cfg;
}

/* The second half: the current task is in the agent's network namespace (task->nsproxy->net_ns). */
static __always_inline int task_in_netns(struct tls_config *cfg)
{
	__u64 task = bpf_get_current_task();
	__u64 nsproxy = 0, net = 0;
	__u32 inum = 0;
	if (bpf_probe_read_kernel(&nsproxy, sizeof(nsproxy), (void *)(task + cfg->off_task_nsproxy)) || !nsproxy)
		return 0; /* an exiting task has no nsproxy */
	if (bpf_probe_read_kernel(&net, sizeof(net), (void *)(nsproxy + cfg->off_nsproxy_net_ns)) || !net)
		return 0;
	if (bpf_probe_read_kernel(&inum, sizeof(inum), (void *)(net + cfg->off_net_ns_inum)))
		return 0;
	return inum == cfg->netns_ino;
}

/* The scope test every TLS and socket program starts with: PID namespace and network namespace. */
static __always_inline struct tls_config *in_scope(struct bpf_pidns_info *ns)
{
	struct tls_config *cfg = in_pid_scope(ns);
	if (!cfg || !task_in_netns(cfg))
		return 0;
	return cfg;
}

/*
 * The 4-tuple of `sk` (a struct sock *) into `t`; 0 when it is a TCP socket over IPv4 or IPv6 in
 * the configured network namespace (a state change can run in softirq, where the current task
 * need not own the socket).
 */
static __always_inline int read_tuple(struct tls_config *cfg, __u64 sk, struct tls_tuple *t)
{
	__u16 family = 0, dport = 0, sport = 0, protocol = 0;
	__u64 net = 0;
	__u32 inum = 0;
	__builtin_memset(t, 0, sizeof(*t));
	if (bpf_probe_read_kernel(&net, sizeof(net), (void *)(sk + cfg->off_skc_net)) || !net)
		return -1;
	if (bpf_probe_read_kernel(&inum, sizeof(inum), (void *)(net + cfg->off_net_ns_inum)) || inum != cfg->netns_ino)
		return -1;
	if (bpf_probe_read_kernel(&protocol, sizeof(protocol), (void *)(sk + cfg->off_sk_protocol)) || protocol != IPPROTO_TCP)
		return -1;
	if (bpf_probe_read_kernel(&family, sizeof(family), (void *)(sk + cfg->off_skc_family)))
		return -1;
	if (family == AF_INET) {
		t->family = 4;
		bpf_probe_read_kernel(t->local_ip, 4, (void *)(sk + cfg->off_skc_rcv_saddr));
		bpf_probe_read_kernel(t->remote_ip, 4, (void *)(sk + cfg->off_skc_daddr));
	} else if (family == AF_INET6) {
		t->family = 6;
		bpf_probe_read_kernel(t->local_ip, 16, (void *)(sk + cfg->off_skc_v6_rcv_saddr));
		bpf_probe_read_kernel(t->remote_ip, 16, (void *)(sk + cfg->off_skc_v6_daddr));
	} else {
		t->family = 0;
		return -1;
	}
	bpf_probe_read_kernel(&dport, sizeof(dport), (void *)(sk + cfg->off_skc_dport));
	bpf_probe_read_kernel(&sport, sizeof(sport), (void *)(sk + cfg->off_inet_sport));
	t->remote_port = __builtin_bswap16(dport);
	t->local_port = __builtin_bswap16(sport);
	return 0;
}

/*
 * The socket behind `fd` in the current task, now (task->files->fdt->fd[fd]->private_data->sk) into
 * `t`; 0 when it is a TCP socket as read_tuple takes it. A Go call's own socket: its thread's last
 * socket can be another goroutine's, and /proc read when the record is handled can name a later
 * connection that reused the fd. A file whose private_data does not point back at it is not a socket.
 */
static __always_inline int fd_tuple(struct tls_config *cfg, __s32 fd, struct tls_tuple *t)
{
	__u64 task = bpf_get_current_task();
	__u64 files = 0, fdt = 0, fds = 0, file = 0, sock = 0, back = 0, sk = 0;
	__u32 max_fds = 0;
	__builtin_memset(t, 0, sizeof(*t));
	if (fd < 0)
		return -1;
	if (bpf_probe_read_kernel(&files, sizeof(files), (void *)(task + cfg->off_task_files)) || !files)
		return -1;
	if (bpf_probe_read_kernel(&fdt, sizeof(fdt), (void *)(files + cfg->off_files_fdt)) || !fdt)
		return -1;
	if (bpf_probe_read_kernel(&max_fds, sizeof(max_fds), (void *)(fdt + cfg->off_fdt_max_fds)) || (__u32)fd >= max_fds)
		return -1;
	if (bpf_probe_read_kernel(&fds, sizeof(fds), (void *)(fdt + cfg->off_fdt_fd)) || !fds)
		return -1;
	if (bpf_probe_read_kernel(&file, sizeof(file), (void *)(fds + (__u64)fd * sizeof(__u64))) || !file)
		return -1;
	if (bpf_probe_read_kernel(&sock, sizeof(sock), (void *)(file + cfg->off_file_private_data)) || !sock)
		return -1;
	if (bpf_probe_read_kernel(&back, sizeof(back), (void *)(sock + cfg->off_socket_file)) || back != file)
		return -1;
	if (bpf_probe_read_kernel(&sk, sizeof(sk), (void *)(sock + cfg->off_socket_sk)) || !sk)
		return -1;
	return read_tuple(cfg, sk, t);
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		*n += 1; /* per-CPU: no other writer */
}

/* Where this call's bytes start in its connection's direction; advances the counter by `total`. */
static __always_inline __u64 claim_stream_bytes(__u64 pid_tgid, __u64 conn, __u8 direction, __u64 total)
{
	struct tls_conn_key key = { .tgid = pid_tgid >> 32, .pad = 0, .conn_id = conn };
	struct tls_conn_bytes *c = bpf_map_lookup_elem(&conn_bytes, &key);
	if (!c) {
		struct tls_conn_bytes fresh = { 0, 0 };
		bpf_map_update_elem(&conn_bytes, &key, &fresh, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&conn_bytes, &key);
		if (!c)
			return 0;
	}
	if (direction == TLS_DIRECTION_WRITE)
		return __sync_fetch_and_add(&c->written, total);
	return __sync_fetch_and_add(&c->read, total);
}

/*
 * Sends the `total` bytes the finished call moved through `call->buf`: data records of at most
 * TLS_CHUNK_MAX bytes, at most TLS_CHUNKS_PER_CALL of them, a skip record for any chunk that could
 * not be read and one for whatever lies past the cap. `tuple` is the call's socket, 0 when unknown.
 */
static __always_inline void emit_call(struct tls_call *call, __u64 total, __u8 library, __u8 direction,
				      struct bpf_pidns_info *ns, __u64 pid_tgid, const struct tls_tuple *tuple)
{
	__u32 zero = 0;
	struct tls_record_buf *rec = bpf_map_lookup_elem(&scratch, &zero);
	if (!rec)
		return;
	__u64 base = claim_stream_bytes(pid_tgid, call->conn, direction, total);

	rec->hdr.ts_ns = bpf_ktime_get_ns();
	rec->hdr.conn_id = call->conn;
	rec->hdr.pid = ns->tgid;
	rec->hdr.tid = ns->pid;
	rec->hdr.fd = call->fd;
	rec->hdr.library = library;
	rec->hdr.direction = direction;
	rec->hdr.pad = 0;
	if (tuple)
		__builtin_memcpy(&rec->hdr.tuple, tuple, sizeof(struct tls_tuple));
	else
		__builtin_memset(&rec->hdr.tuple, 0, sizeof(struct tls_tuple));

	/*
	 * The loop's state lives in the scratch map, not in registers: values loaded from a map are
	 * unknown to the verifier, so its states at the loop head differ only by `i` and the 64
	 * iterations verify in a few thousand steps instead of hundreds of thousands.
	 */
	rec->left = total;
	rec->src = call->buf;
	rec->hdr.stream_offset = base;
	for (__u32 i = 0; i < TLS_CHUNKS_PER_CALL; i++) {
		__u64 n = rec->left;
		if (n == 0)
			break;
		if (n > TLS_CHUNK_MAX)
			n = TLS_CHUNK_MAX;
		/* Make the verifier see the bound on the very register passed to the helpers. */
		asm volatile("" : "+r"(n));
		if (n > TLS_CHUNK_MAX)
			break;
		rec->hdr.length = n;
		if (bpf_probe_read_user(rec->data, n, (void *)rec->src) == 0) {
			rec->hdr.kind = TLS_KIND_DATA;
			if (bpf_ringbuf_output(&events, rec, sizeof(struct tls_record) + n, 0))
				count_lost();
		} else {
			rec->hdr.kind = TLS_KIND_SKIP;
			if (bpf_ringbuf_output(&events, rec, sizeof(struct tls_record), 0))
				count_lost();
		}
		rec->left -= n;
		rec->src += n;
		rec->hdr.stream_offset += n;
	}
	if (rec->left > 0) {
		rec->hdr.kind = TLS_KIND_SKIP;
		rec->hdr.length = rec->left;
		if (bpf_ringbuf_output(&events, rec, sizeof(struct tls_record), 0))
			count_lost();
	}
}

/* A TLS call starts on this thread: the socket programs may now record its socket. */
static __always_inline void thread_call_begins(__u64 pid_tgid)
{
	__u32 one = 1;
	bpf_map_delete_elem(&thread_socks, &pid_tgid);
	bpf_map_update_elem(&active_threads, &pid_tgid, &one, BPF_ANY);
}

static __always_inline void thread_call_ends(__u64 pid_tgid)
{
	bpf_map_delete_elem(&active_threads, &pid_tgid);
	bpf_map_delete_elem(&thread_socks, &pid_tgid);
}

/* ---- OpenSSL: int SSL_write(SSL *, const void *, int), int SSL_write_ex(SSL *, const void *, size_t, size_t *), same for read. */

static __always_inline int ssl_entry(struct tls_pt_regs *regs, int ex)
{
	struct bpf_pidns_info ns;
	if (!in_scope(&ns))
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_call call = {
		.conn = regs->rdi,
		.buf = regs->rsi,
		.len = ex ? regs->rdx : (__u64)(__u32)(int)regs->rdx,
		.out_len = ex ? regs->rcx : 0,
		.fd = -1,
		.pad = 0,
	};
	if (!ex && (int)regs->rdx <= 0)
		call.len = 0;
	bpf_map_update_elem(&ssl_calls, &pid_tgid, &call, BPF_ANY);
	thread_call_begins(pid_tgid);
	return 0;
}

static __always_inline int ssl_return(struct tls_pt_regs *regs, int ex, __u8 direction)
{
	struct bpf_pidns_info ns;
	if (!in_scope(&ns))
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_call *call = bpf_map_lookup_elem(&ssl_calls, &pid_tgid);
	if (!call)
		return 0;
	int ret = (int)regs->rax;
	__u64 total = 0;
	if (ex) {
		if (ret == 1 && call->out_len)
			bpf_probe_read_user(&total, sizeof(total), (void *)call->out_len);
	} else if (ret > 0) {
		total = (__u64)ret;
	}
	if (total > call->len)
		total = call->len;
	/* OpenSSL's socket is the one this thread sent or received on during the call. */
	if (total > 0)
		emit_call(call, total, TLS_LIBRARY_OPENSSL, direction, &ns, pid_tgid, bpf_map_lookup_elem(&thread_socks, &pid_tgid));
	bpf_map_delete_elem(&ssl_calls, &pid_tgid);
	thread_call_ends(pid_tgid);
	return 0;
}

SEC("uprobe/ssl_write_entry")
int ssl_write_entry(struct tls_pt_regs *regs) { return ssl_entry(regs, 0); }

SEC("uprobe/ssl_write_return")
int ssl_write_return(struct tls_pt_regs *regs) { return ssl_return(regs, 0, TLS_DIRECTION_WRITE); }

SEC("uprobe/ssl_write_ex_entry")
int ssl_write_ex_entry(struct tls_pt_regs *regs) { return ssl_entry(regs, 1); }

SEC("uprobe/ssl_write_ex_return")
int ssl_write_ex_return(struct tls_pt_regs *regs) { return ssl_return(regs, 1, TLS_DIRECTION_WRITE); }

SEC("uprobe/ssl_read_entry")
int ssl_read_entry(struct tls_pt_regs *regs) { return ssl_entry(regs, 0); }

SEC("uprobe/ssl_read_return")
int ssl_read_return(struct tls_pt_regs *regs) { return ssl_return(regs, 0, TLS_DIRECTION_READ); }

SEC("uprobe/ssl_read_ex_entry")
int ssl_read_ex_entry(struct tls_pt_regs *regs) { return ssl_entry(regs, 1); }

SEC("uprobe/ssl_read_ex_return")
int ssl_read_ex_return(struct tls_pt_regs *regs) { return ssl_return(regs, 1, TLS_DIRECTION_READ); }

/* ---- Go: func (c *Conn) Write(b []byte) (int, error), Read likewise; register ABI (RAX, RBX, RCX; R14 = g). */

/*
 * A Write's bytes are sent from its entry, not its RET: Go's HTTP clients write on one goroutine
 * and read on another, and a Write's RET may run after the peer's answer was already read (and
 * sent from the Read's RET): records sent at RET put a response before its request in the ring.
 * At entry the bytes precede anything the peer sends back. crypto/tls writes all of `b` or fails
 * (n < len(b) only with an error, after which the connection is unusable), so len(b) is what goes.
 */
static __always_inline int go_entry(struct tls_pt_regs *regs, __u8 direction)
{
	struct bpf_pidns_info ns;
	struct tls_config *cfg = in_scope(&ns);
	if (!cfg)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_go_key key = { .tgid = pid_tgid >> 32, .pad = 0, .goroutine = regs->r14 };
	struct tls_call call = { .conn = regs->rax, .buf = regs->rbx, .len = regs->rcx, .out_len = 0, .fd = -1, .pad = 0 };
	__builtin_memset(&call.tuple, 0, sizeof(call.tuple));
	__u64 data = 0, netfd = 0;
	__s64 sysfd = -1;
	if (bpf_probe_read_user(&data, sizeof(data), (void *)(call.conn + GO_IFACE_DATA)) == 0 && data &&
	    bpf_probe_read_user(&netfd, sizeof(netfd), (void *)data) == 0 && netfd &&
	    bpf_probe_read_user(&sysfd, sizeof(sysfd), (void *)(netfd + GO_NETFD_SYSFD)) == 0 &&
	    sysfd >= 0 && sysfd < GO_MAX_FD)
		call.fd = (__s32)sysfd;
	/* The socket is read now, while the fd is surely this connection's (a Read's RET may run after a close). */
	const struct tls_tuple *tuple = fd_tuple(cfg, call.fd, &call.tuple) == 0 ? &call.tuple : 0;
	if (direction == TLS_DIRECTION_WRITE) {
		if (call.len > 0 && call.len < (1ULL << 62))
			emit_call(&call, call.len, TLS_LIBRARY_GO, TLS_DIRECTION_WRITE, &ns, pid_tgid, tuple);
		return 0;
	}
	bpf_map_update_elem(&go_calls, &key, &call, BPF_ANY);
	return 0;
}

static __always_inline int go_return(struct tls_pt_regs *regs, __u8 direction)
{
	struct bpf_pidns_info ns;
	if (!in_scope(&ns))
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_go_key key = { .tgid = pid_tgid >> 32, .pad = 0, .goroutine = regs->r14 };
	struct tls_call *call = bpf_map_lookup_elem(&go_calls, &key);
	if (!call)
		return 0;
	__s64 n = (__s64)regs->rax;
	if (n > 0) {
		__u64 total = (__u64)n;
		if (total > call->len)
			total = call->len;
		emit_call(call, total, TLS_LIBRARY_GO, direction, &ns, pid_tgid, call->tuple.family ? &call->tuple : 0);
	}
	bpf_map_delete_elem(&go_calls, &key);
	return 0;
}

SEC("uprobe/go_write_entry")
int go_write_entry(struct tls_pt_regs *regs) { return go_entry(regs, TLS_DIRECTION_WRITE); }

SEC("uprobe/go_write_return")
int go_write_return(struct tls_pt_regs *regs) { return 0; /* sent at entry (go_entry) */ }

SEC("uprobe/go_read_entry")
int go_read_entry(struct tls_pt_regs *regs) { return go_entry(regs, TLS_DIRECTION_READ); }

SEC("uprobe/go_read_return")
int go_read_return(struct tls_pt_regs *regs) { return go_return(regs, TLS_DIRECTION_READ); }

/* ---- Sockets: raw tracepoints, ctx = the tracepoint's arguments as u64 (struct sock *sk first). */

/* The socket a thread in a TLS call sends or receives on (sock_send_length/sock_recv_length run in its context). */
static __always_inline int note_socket(struct bpf_raw_tracepoint_args *ctx)
{
	struct bpf_pidns_info ns;
	struct tls_config *cfg = in_scope(&ns);
	if (!cfg)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!bpf_map_lookup_elem(&active_threads, &pid_tgid))
		return 0;
	struct tls_tuple t;
	if (read_tuple(cfg, ctx->args[0], &t) == 0)
		bpf_map_update_elem(&thread_socks, &pid_tgid, &t, BPF_ANY);
	return 0;
}

SEC("raw_tp/sock_send_length")
int sock_send_length(struct bpf_raw_tracepoint_args *ctx) { return note_socket(ctx); }

SEC("raw_tp/sock_recv_length")
int sock_recv_length(struct bpf_raw_tracepoint_args *ctx) { return note_socket(ctx); }

/*
 * The application closed a TCP socket: tcp_close() moves it to FIN_WAIT1 (we close first) or
 * LAST_ACK (the peer closed first), or straight to CLOSE (abort, unread data, not yet
 * established), all in the closing task's context. A CLOSE reached from FIN_WAIT2/TIME_WAIT/
 * CLOSING/LAST_ACK is the end of a close already reported, in softirq, and is not sent again.
 */
SEC("raw_tp/inet_sock_set_state")
int inet_sock_set_state(struct bpf_raw_tracepoint_args *ctx)
{
	/*
	 * The network namespace checked is the socket's (in read_tuple), not the task's: a process
	 * that exits without closing has its sockets closed after its nsproxy is gone.
	 */
	struct bpf_pidns_info ns;
	struct tls_config *cfg = in_pid_scope(&ns);
	if (!cfg)
		return 0;
	int oldstate = (int)ctx->args[1];
	int newstate = (int)ctx->args[2];
	/* tcp_close() after shutdown() "moves" FIN_WAIT1 or LAST_ACK to itself: already reported. */
	if (oldstate == newstate)
		return 0;
	if (newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK &&
	    !(newstate == TCP_CLOSE && (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT ||
					oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)))
		return 0;
	/* Built on the stack: this may run while a preempted uprobe program owns the per-CPU scratch. */
	struct tls_record rec;
	__builtin_memset(&rec, 0, sizeof(rec));
	if (read_tuple(cfg, ctx->args[0], &rec.tuple) != 0)
		return 0;
	rec.ts_ns = bpf_ktime_get_ns();
	rec.pid = ns.tgid;
	rec.tid = ns.pid;
	rec.fd = -1;
	rec.kind = TLS_KIND_CLOSE;
	if (bpf_ringbuf_output(&events, &rec, sizeof(rec), 0))
		count_lost();
	return 0;
}
