/* zk_put: closed-loop write load against a ZooKeeper 3.8 ensemble, for bench/vs_peers.sh.
 *
 * N client threads each create a fresh znode (/bench/kNNNNNNNNNN with the value as its data)
 * synchronously, wait for the answer, and create the next, until --count creates were answered
 * in all. Threads share --conns zhandles round-robin (default: one per thread, at most 64); the
 * multithreaded C client pipelines the requests of threads sharing a handle. A create returns
 * after the leader committed it, which is after a majority logged (and, with forceSync=yes,
 * fsynced) its proposal.
 *
 * Prints one line:
 *   zk_put operations=N errors=E seconds=S rate=R p50_ms=X p90_ms=X p99_ms=X max_ms=X
 *
 * Build: cc -O2 -o zk_put zk_put.c -lzookeeper_mt -lpthread   (Debian: libzookeeper-mt-dev)
 */
#ifndef THREADED
#define THREADED /* the synchronous API of the multithreaded client */
#endif
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

static const char *hosts = "127.0.0.1:2281";
static int clients = 1, conns = 0, value_size = 256;
static long count = 1000;
static const char *root = "/bench";
static char *value;
static zhandle_t **handles;
static atomic_long next_op;
static atomic_long errors_seen;
static double *latencies; /* ms, indexed by operation number; <0: failed */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_cond = PTHREAD_COND_INITIALIZER;
static int connected;

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
  (void)zh, (void)path, (void)ctx;
  if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) {
    pthread_mutex_lock(&conn_lock);
    connected++;
    pthread_cond_broadcast(&conn_cond);
    pthread_mutex_unlock(&conn_lock);
  }
}

static void *client(void *arg) {
  zhandle_t *zh = handles[(long)arg % conns];
  char path[64];
  for (;;) {
    long i = atomic_fetch_add(&next_op, 1);
    if (i >= count) return NULL;
    snprintf(path, sizeof path, "%s/k%010ld", root, i);
    double t0 = now_ms();
    int rc = zoo_create(zh, path, value, value_size, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    if (rc != ZOK) {
      if (atomic_fetch_add(&errors_seen, 1) < 5) fprintf(stderr, "zk_put: create %s: %s\n", path, zerror(rc));
      latencies[i] = -1;
      continue;
    }
    latencies[i] = now_ms() - t0;
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  static struct option opts[] = {{"hosts", 1, 0, 'h'},      {"clients", 1, 0, 'c'}, {"conns", 1, 0, 'n'},
                                 {"value-size", 1, 0, 'v'}, {"count", 1, 0, 'k'},   {"root", 1, 0, 'r'},
                                 {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'h': hosts = optarg; break;
      case 'c': clients = atoi(optarg); break;
      case 'n': conns = atoi(optarg); break;
      case 'v': value_size = atoi(optarg); break;
      case 'k': count = atol(optarg); break;
      case 'r': root = optarg; break;
      default:
        fprintf(stderr, "usage: zk_put --hosts H:P,... --clients N [--conns M] --value-size B --count K [--root /bench]\n");
        return 2;
    }
  }
  if (clients < 1 || count < 1 || value_size < 0) {
    fprintf(stderr, "zk_put: need --clients >= 1, --count >= 1, --value-size >= 0\n");
    return 2;
  }
  if (conns <= 0) conns = clients < 64 ? clients : 64;
  if (conns > clients) conns = clients;
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  value = malloc(value_size ? value_size : 1);
  memset(value, 'v', value_size);
  latencies = calloc(count, sizeof *latencies);
  handles = calloc(conns, sizeof *handles);
  for (int i = 0; i < conns; i++) {
    handles[i] = zookeeper_init(hosts, watcher, 30000, NULL, NULL, 0);
    if (!handles[i]) {
      fprintf(stderr, "zk_put: zookeeper_init: %s\n", strerror(errno));
      return 4;
    }
  }
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 20;
  pthread_mutex_lock(&conn_lock);
  while (connected < conns) {
    if (pthread_cond_timedwait(&conn_cond, &conn_lock, &deadline) == ETIMEDOUT) {
      fprintf(stderr, "zk_put: only %d of %d sessions connected in 20 s\n", connected, conns);
      return 4;
    }
  }
  pthread_mutex_unlock(&conn_lock);
  int rc = zoo_create(handles[0], root, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
  if (rc != ZOK && rc != ZNODEEXISTS) {
    fprintf(stderr, "zk_put: create %s: %s\n", root, zerror(rc));
    return 4;
  }
  /* One synchronous call per session before the clock starts. */
  for (int i = 0; i < conns; i++) {
    struct Stat st;
    rc = zoo_exists(handles[i], root, 0, &st);
    if (rc != ZOK) {
      fprintf(stderr, "zk_put: warm-up exists: %s\n", zerror(rc));
      return 4;
    }
  }
  pthread_t *threads = calloc(clients, sizeof *threads);
  double start = now_ms();
  for (long i = 0; i < clients; i++) pthread_create(&threads[i], NULL, client, (void *)i);
  for (int i = 0; i < clients; i++) pthread_join(threads[i], NULL);
  double seconds = (now_ms() - start) / 1e3;
  long ok = 0;
  for (long i = 0; i < count; i++)
    if (latencies[i] >= 0) latencies[ok++] = latencies[i];
  qsort(latencies, ok, sizeof *latencies, cmp);
#define PCT(p) (ok ? latencies[(long)((p) * ok) < ok ? (long)((p) * ok) : ok - 1] : 0.0)
  printf("zk_put operations=%ld errors=%ld seconds=%.3f rate=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", ok,
         (long)atomic_load(&errors_seen), seconds, ok / seconds, PCT(0.50), PCT(0.90), PCT(0.99), PCT(1.0));
  fflush(stdout);
  for (int i = 0; i < conns; i++) zookeeper_close(handles[i]);
  return atomic_load(&errors_seen) ? 3 : 0;
}
