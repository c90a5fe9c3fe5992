/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The binary contract between bpf/tls.bpf.c and the agent's TypeScript
 * (src/remote-agent/tls/probes/layout.ts mirrors every offset here; a test compiles this header with
 * the host compiler, prints sizeof/offsetof and compares, so the two cannot drift).
 * Fixed-width fields only, every field at its natural alignment, explicit padding: the layout is
 * the same for the BPF target and x86-64 user space.
 */
#ifndef KSHARK_TLS_H
#define KSHARK_TLS_H

#include <linux/types.h>

/* Plaintext carried by one data record; a call moving more is split into several records. */
#define TLS_CHUNK_MAX 16384
/* Data records one call may emit (64 x 16 KiB = 1 MiB); the rest of the call is one skip record. */
#define TLS_CHUNKS_PER_CALL 64

/* struct tls_record.kind */
#define TLS_KIND_DATA 1
#define TLS_KIND_SKIP 2
#define TLS_KIND_CLOSE 3

/* struct tls_record.library */
#define TLS_LIBRARY_OPENSSL 1
#define TLS_LIBRARY_GO 2

/* struct tls_record.direction */
#define TLS_DIRECTION_WRITE 1
#define TLS_DIRECTION_READ 2

/*
 * A TCP socket's addresses as the kernel's struct sock_common holds them, local = the traced
 * process's end. family: 0 = unknown (no socket seen), 4 = IPv4 (addresses in the first 4 bytes),
 * 6 = IPv6 (an IPv4-mapped pair is turned into family 4 by user space). Addresses in network byte
 * order, ports in host order.
 */
struct tls_tuple {
	__u8 family;
	__u8 pad[3];
	__u16 local_port;
	__u16 remote_port;
	__u8 local_ip[16];
	__u8 remote_ip[16];
};

/*
 * One ring buffer record: this header, then `length` bytes of plaintext for a data record (the
 * record is exactly sizeof(struct tls_record) + length long); for a skip record `length` is the
 * number of bytes lost and no data follows; a close record carries pid, tid and tuple only.
 */
struct tls_record {
	__u64 ts_ns;         /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 conn_id;       /* OpenSSL SSL *, Go *tls.Conn; 0 for close */
	__u64 stream_offset; /* bytes of this direction of conn_id reported before this record */
	__u64 length;
	__u32 pid;           /* in the configured PID namespace */
	__u32 tid;
	__s32 fd;            /* -1 when unknown */
	__u8 kind;
	__u8 library;
	__u8 direction;
	__u8 pad;
	struct tls_tuple tuple;
};

/*
 * The per-CPU scratch a record is built in before bpf_ringbuf_output copies its exact size
 * (hdr + data); `left` and `src` carry the chunk loop's state (bytes still to send, where they are).
 */
struct tls_record_buf {
	struct tls_record hdr;
	__u8 data[TLS_CHUNK_MAX];
	__u64 left;
	__u64 src;
};

/*
 * The single entry of the `config` array map, written by user space before any program is
 * attached. Until `ready` is 1 every program returns at once (nothing is in scope).
 * Offsets are byte offsets read from the kernel's BTF (/sys/kernel/btf/vmlinux).
 */
struct tls_config {
	__u64 pidns_dev;          /* kernel dev_t (major << 20 | minor) of the nsfs inode of the PID namespace */
	__u64 pidns_ino;          /* inode of /proc/self/ns/pid */
	__u32 netns_ino;          /* inode of /proc/self/ns/net */
	__u32 ready;
	__u32 off_task_nsproxy;   /* struct task_struct.nsproxy */
	__u32 off_nsproxy_net_ns; /* struct nsproxy.net_ns */
	__u32 off_net_ns_inum;    /* struct net.ns + struct ns_common.inum */
	__u32 off_skc_family;     /* struct sock_common.skc_family (u16) */
	__u32 off_skc_daddr;      /* struct sock_common.skc_daddr (be32) */
	__u32 off_skc_rcv_saddr;  /* struct sock_common.skc_rcv_saddr (be32) */
	__u32 off_skc_dport;      /* struct sock_common.skc_dport (be16) */
	__u32 off_inet_sport;     /* struct inet_sock.inet_sport (be16; skc_num is 0 once the port is released at CLOSE) */
	__u32 off_skc_v6_daddr;   /* struct sock_common.skc_v6_daddr (16 bytes) */
	__u32 off_skc_v6_rcv_saddr; /* struct sock_common.skc_v6_rcv_saddr (16 bytes) */
	__u32 off_sk_protocol;    /* struct sock.sk_protocol (u16) */
	__u32 off_skc_net;        /* struct sock_common.skc_net (possible_net_t: a struct net *) */
	/* A Go call's socket, from its fd at call time: task->files->fdt->fd[fd]->private_data->sk. */
	__u32 off_task_files;     /* struct task_struct.files */
	__u32 off_files_fdt;      /* struct files_struct.fdt */
	__u32 off_fdt_max_fds;    /* struct fdtable.max_fds (u32) */
	__u32 off_fdt_fd;         /* struct fdtable.fd (struct file **) */
	__u32 off_file_private_data; /* struct file.private_data (a socket file's struct socket *) */
	__u32 off_socket_file;    /* struct socket.file (points back at the file: proves it is a socket) */
	__u32 off_socket_sk;      /* struct socket.sk */
	__u32 pad;
};

/* An OpenSSL or Go call between its entry and its return. */
struct tls_call {
	__u64 conn;    /* SSL * or *tls.Conn */
	__u64 buf;     /* user buffer */
	__u64 len;     /* its size */
	__u64 out_len; /* SSL_*_ex: the size_t * the library writes the count to; else 0 */
	__s32 fd;      /* Go: netFD.pfd.Sysfd read at entry; else -1 */
	__u32 pad;
	struct tls_tuple tuple; /* Go: the socket behind fd at entry (family 0: not read); else unused */
};

/* Go call state key: a goroutine can move to another thread between entry and RET. */
struct tls_go_key {
	__u32 tgid;
	__u32 pad;
	__u64 goroutine; /* R14 (the g pointer in Go's register ABI) */
};

/* Per-connection byte counters, the records' stream_offset. */
struct tls_conn_key {
	__u32 tgid;
	__u32 pad;
	__u64 conn_id;
};

struct tls_conn_bytes {
	__u64 written;
	__u64 read;
};

/* A legacy map definition in ELF section "maps" (one global per map, in section order). */
struct tls_map_def {
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
};

#endif
