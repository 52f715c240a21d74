// Runtime conformance: test bodies that every io::Runtime must pass, written against the io::
// interfaces only, so that the real runtime (tests/io/real) and the simulator run the very same
// checks. Each body runs inside a fiber of the runtime under test (a node's main), reports
// through GoogleTest EXPECT/ASSERT, and returns only after every fiber it spawned has finished.
// Bodies wait with deadlines, so a broken runtime fails a check instead of hanging it.
//
// A driver lists checks with conformance_checks() and runs each on a fresh runtime; disk checks
// need an empty data directory. See docs/io.md.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "io/network.h"
#include "io/runtime.h"

namespace quire::test {

// How network checks find their way on a runtime: the real runtime listens on 127.0.0.1 with
// port 0 and dials the port the kernel picked; a simulator listens on its node's host name.
struct NetworkSetup {
  io::Address listen_address;
  // The address a client dials to reach `listener` (made from listen_address).
  std::function<io::Address(io::Listener&)> dial_address;
};

enum class CheckArea { timers, sync, disk, network };

struct ConformanceCheck {
  std::string name;  // A gtest-friendly identifier: letters, digits and '_'.
  CheckArea area;
  std::function<void(io::Runtime&, const NetworkSetup&)> body;
};

// Every check, in a fixed order.
const std::vector<ConformanceCheck>& conformance_checks();
// The checks of one area.
std::vector<ConformanceCheck> conformance_checks(CheckArea area);

// Timers and fibers.
void check_timers_fire_in_deadline_order(io::Runtime& runtime);
void check_cancelled_timer_does_not_fire(io::Runtime& runtime);
void check_sleep_waits_at_least_its_duration(io::Runtime& runtime);
void check_spawned_fibers_all_run(io::Runtime& runtime);

// sync.h on the runtime's scheduler.
void check_event_wakes_every_waiter(io::Runtime& runtime);
void check_event_wait_times_out(io::Runtime& runtime);
void check_mutex_hands_over_in_fifo_order(io::Runtime& runtime);
void check_channel_applies_backpressure(io::Runtime& runtime);
void check_channel_close_drains_then_fails(io::Runtime& runtime);

// Disk. REQUIRES: an empty data directory.
void check_disk_write_read_roundtrip(io::Runtime& runtime);
void check_disk_read_past_end_is_short(io::Runtime& runtime);
void check_disk_hole_reads_as_zeros(io::Runtime& runtime);
void check_disk_sync_and_reopen(io::Runtime& runtime);
void check_disk_truncate(io::Runtime& runtime);
void check_disk_rename_replaces_target(io::Runtime& runtime);
void check_disk_unlink(io::Runtime& runtime);
void check_disk_list_is_sorted(io::Runtime& runtime);
void check_disk_exists_and_make_directory(io::Runtime& runtime);
void check_disk_open_modes_and_errors(io::Runtime& runtime);
void check_disk_rejects_bad_paths(io::Runtime& runtime);
void check_disk_large_transfer(io::Runtime& runtime);

// Network.
void check_network_frames_arrive_in_order(io::Runtime& runtime, const NetworkSetup& setup);
void check_network_empty_and_large_frames(io::Runtime& runtime, const NetworkSetup& setup);
void check_network_rejects_oversized_send(io::Runtime& runtime, const NetworkSetup& setup);
void check_network_backpressure(io::Runtime& runtime, const NetworkSetup& setup);
void check_network_close_wakes_both_ends(io::Runtime& runtime, const NetworkSetup& setup);
void check_network_connect_refused(io::Runtime& runtime, const NetworkSetup& setup);
void check_network_receive_timeout(io::Runtime& runtime, const NetworkSetup& setup);
void check_network_listener_close_wakes_accept(io::Runtime& runtime, const NetworkSetup& setup);
void check_network_many_connections(io::Runtime& runtime, const NetworkSetup& setup);

}  // namespace quire::test
