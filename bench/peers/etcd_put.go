// etcd_put: closed-loop put load against an etcd 3.4 cluster, for bench/vs_peers.sh.
//
// N clients (goroutines) each put a fresh key, wait for the answer, and put the next, until
// -count puts were answered in all. Clients share -conns clientv3 clients (gRPC connections)
// round-robin, the way etcd's own `benchmark put --conns M --clients N` does; the default gives
// every client its own connection up to 64. A put returns after the leader applied it, which
// is after a majority fsynced its WAL entry (etcd's default, no flag loosens it).
//
// Prints one line:
//   etcd_put operations=N errors=E seconds=S rate=R p50_ms=X p90_ms=X p99_ms=X max_ms=X
//
// Built in GOPATH mode against Debian's golang-etcd-server-dev (no network):
//   GO111MODULE=off GOPATH=/usr/share/gocode:$tmp go build -o etcd_put etcd_put.go
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2479", "comma-separated client URLs or host:port")
	clients := flag.Int("clients", 1, "concurrent closed-loop clients")
	conns := flag.Int("conns", 0, "clientv3 connections shared round-robin (0: one per client, at most 64)")
	valueSize := flag.Int("value-size", 256, "value size in bytes")
	count := flag.Int("count", 1000, "puts in all")
	prefix := flag.String("prefix", "bench/", "key prefix")
	timeout := flag.Duration("timeout", 10*time.Second, "per-put timeout")
	flag.Parse()
	if *clients < 1 || *count < 1 || *valueSize < 0 {
		fmt.Fprintln(os.Stderr, "etcd_put: need --clients >= 1, --count >= 1, --value-size >= 0")
		os.Exit(2)
	}
	if *conns <= 0 {
		*conns = *clients
		if *conns > 64 {
			*conns = 64
		}
	}
	var urls []string
	for _, e := range strings.Split(*endpoints, ",") {
		if !strings.Contains(e, "://") {
			e = "http://" + e
		}
		urls = append(urls, e)
	}
	cs := make([]*clientv3.Client, *conns)
	for i := range cs {
		c, err := clientv3.New(clientv3.Config{Endpoints: urls, DialTimeout: 5 * time.Second})
		if err != nil {
			fmt.Fprintln(os.Stderr, "etcd_put: connect:", err)
			os.Exit(4)
		}
		defer c.Close()
		cs[i] = c
	}
	// One put per connection before the clock starts: dials and leader discovery are not timed.
	for i, c := range cs {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		_, err := c.Put(ctx, fmt.Sprintf("%swarm/%d", *prefix, i), "w")
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "etcd_put: warm-up put:", err)
			os.Exit(4)
		}
	}
	value := strings.Repeat("v", *valueSize)
	var next int64 = -1
	var errorsSeen int64
	lat := make([][]time.Duration, *clients)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := cs[w%len(cs)]
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(*count) {
					return
				}
				key := fmt.Sprintf("%s%010d", *prefix, i)
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), *timeout)
				_, err := c.Put(ctx, key, value)
				cancel()
				if err != nil {
					atomic.AddInt64(&errorsSeen, 1)
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}(w)
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p * float64(len(all)))
		if i >= len(all) {
			i = len(all) - 1
		}
		return float64(all[i].Microseconds()) / 1000
	}
	fmt.Printf("etcd_put operations=%d errors=%d seconds=%.3f rate=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
		len(all), errorsSeen, seconds, float64(len(all))/seconds, pct(0.50), pct(0.90), pct(0.99), pct(1.0))
	if errorsSeen > 0 {
		os.Exit(3)
	}
}
