#include "engine/bulk.h"

#include "engine/codec.h"
#include "io/base/text.h"
#include "store/halog_reader.h"

namespace quire::engine {
namespace {

uint64_t request_id(io::Runtime& runtime) {
  return runtime.rng().next_u64();
}

core::FetchFailure failure_of(wire::FetchStatus status) {
  switch (status) {
    case wire::FETCH_NOT_YET:
      return core::FetchFailure::not_yet;
    case wire::FETCH_MISSING:
      return core::FetchFailure::missing;
    default:
      return core::FetchFailure::unreachable;
  }
}

wire::BulkResponse serve_halog(store::Journal& journal, const wire::HALogRequest& request) {
  wire::BulkResponse response;
  wire::HALogResponse* answer = response.mutable_halog();
  answer->set_counter(request.counter());
  const CommitCounter counter(request.counter());
  if (counter.value() == 0) {
    answer->set_status(wire::FETCH_REFUSED);
  } else if (counter > journal.commit_counter()) {
    answer->set_status(wire::FETCH_NOT_YET);
  } else {
    auto halog = journal.read_halog(counter);
    if (halog.ok()) {
      answer->set_status(wire::FETCH_OK);
      answer->set_halog(halog->data(), halog->size());
    } else {
      // Purged, torn or corrupt here: the asker looks elsewhere, or rebuilds.
      answer->set_status(wire::FETCH_MISSING);
    }
  }
  return response;
}

wire::BulkResponse serve_prefix(store::Journal& journal, const wire::PrefixRequest& request,
                                uint64_t chunk_bytes_max) {
  wire::BulkResponse response;
  wire::PrefixResponse* answer = response.mutable_prefix();
  // The first request fixes the commit point of the copy: this member's committed root now.
  store::RootBlock root = journal.root();
  if (!request.root().empty()) {
    auto named = decode_root(request.root());
    if (!named.ok() || named->end_offset > journal.root().end_offset) {
      answer->set_status(wire::FETCH_REFUSED);
      return response;
    }
    root = *named;
  }
  const Bytes encoded = encode_root(root);
  answer->set_root(encoded.data(), encoded.size());
  const uint64_t begin =
      std::max<uint64_t>(request.offset(), store::format::data_region_begin_offset);
  const uint64_t end =
      std::min(root.end_offset, begin + std::min(request.length(), chunk_bytes_max));
  answer->set_offset(begin);
  if (begin < end) {
    auto data = journal.read_raw(begin, end - begin);
    if (!data.ok()) {
      answer->set_status(wire::FETCH_MISSING);
      return response;
    }
    answer->set_data(data->data(), data->size());
  }
  answer->set_status(wire::FETCH_OK);
  return response;
}

wire::BulkResponse serve_record(store::Journal& journal, const wire::RecordRequest& request) {
  wire::BulkResponse response;
  wire::RecordResponse* answer = response.mutable_record();
  if (request.length() > record_fetch_bytes_max) {
    answer->set_status(wire::FETCH_MISSING);
    return response;
  }
  auto data = journal.read_raw(request.offset(), request.length());
  if (!data.ok()) {
    answer->set_status(wire::FETCH_MISSING);
    return response;
  }
  answer->set_status(wire::FETCH_OK);
  answer->set_data(data->data(), data->size());
  return response;
}

}  // namespace

core::Input fetch_halog_from(Transport& transport, io::Runtime& runtime, NodeId peer,
                             CommitCounter counter, Instant deadline) {
  wire::BulkRequest request;
  request.set_request_id(request_id(runtime));
  request.mutable_halog()->set_counter(counter.value());
  auto response = transport.bulk(peer, request, deadline);
  if (!response.ok() || !response->has_halog() || response->halog().counter() != counter.value()) {
    return core::HALogFetchFailed{peer, counter, core::FetchFailure::unreachable};
  }
  const wire::HALogResponse& answer = response->halog();
  if (answer.status() != wire::FETCH_OK) {
    return core::HALogFetchFailed{peer, counter, failure_of(answer.status())};
  }
  auto halog = std::make_shared<const Bytes>(answer.halog().begin(), answer.halog().end());
  auto reader = store::HALogReader::parse(*halog);
  if (!reader.ok() || reader->closing_root().commit_counter != counter) {
    runtime.trace(concat("HALog ", counter, " from ", peer, " does not check"));
    return core::HALogFetchFailed{peer, counter, core::FetchFailure::missing};
  }
  return core::HALogFetched{peer, reader->closing_root(), halog};
}

core::Input rebuild_from(Transport& transport, io::Runtime& runtime, store::Journal& journal,
                         io::Mutex& journal_mutex, NodeId peer, uint64_t chunk_bytes,
                         Duration timeout, DriverStats& stats) {
  runtime.trace(concat("rebuild from ", peer, " starts"));
  stats.rebuild_bytes_installed = 0;
  stats.rebuild_bytes_total = 0;
  std::optional<store::RootBlock> root;
  uint64_t offset = store::format::data_region_begin_offset;
  auto give_up = [&](const std::string& why) -> core::Input {
    runtime.trace(concat("rebuild from ", peer, " fails: ", why));
    if (root) {
      io::MutexLock lock(journal_mutex);
      journal.abort_install();
    }
    return core::RebuildFailed{peer};
  };
  for (;;) {
    wire::BulkRequest request;
    request.set_request_id(request_id(runtime));
    wire::PrefixRequest* prefix = request.mutable_prefix();
    if (root) {
      const Bytes encoded = encode_root(*root);
      prefix->set_root(encoded.data(), encoded.size());
    }
    prefix->set_offset(offset);
    prefix->set_length(chunk_bytes);
    auto response = transport.bulk(peer, request, runtime.now() + timeout);
    if (!response.ok()) return give_up(response.error().to_string());
    if (!response->has_prefix() || response->prefix().status() != wire::FETCH_OK) {
      return give_up("the peer refused");
    }
    const wire::PrefixResponse& answer = response->prefix();
    if (!root) {
      auto decoded = decode_root(answer.root());
      if (!decoded.ok()) return give_up(decoded.error().to_string());
      if (decoded->commit_counter < journal.commit_counter()) return give_up("the peer is behind");
      Status begun;
      {
        io::MutexLock lock(journal_mutex);
        begun = journal.begin_install(*decoded);
      }
      if (!begun.ok()) return give_up(begun.error().to_string());
      root = *decoded;
      stats.rebuild_bytes_total = root->end_offset - store::format::data_region_begin_offset;
    }
    if (answer.offset() != offset) return give_up("a chunk out of order");
    if (!answer.data().empty()) {
      Status installed;
      {
        io::MutexLock lock(journal_mutex);
        installed = journal.install_chunk(offset, as_bytes(answer.data()));
      }
      if (!installed.ok()) return give_up(installed.error().to_string());
      offset += answer.data().size();
      stats.rebuild_bytes_installed += answer.data().size();
    }
    if (offset >= root->end_offset) break;
    if (answer.data().empty()) return give_up("an empty chunk before the end");
  }
  Status finished;
  {
    io::MutexLock lock(journal_mutex);
    finished = journal.finish_install();
  }
  if (!finished.ok()) return give_up(finished.error().to_string());
  runtime.trace(concat("rebuild from ", peer, " done at ", root->commit_counter));
  return core::RebuildDone{peer, *root};
}

Result<Bytes> fetch_record_from(Transport& transport, io::Runtime& runtime, NodeId peer,
                                store::Address address, Instant deadline) {
  wire::BulkRequest request;
  request.set_request_id(request_id(runtime));
  request.mutable_record()->set_offset(address.offset);
  request.mutable_record()->set_length(address.length);
  QUIRE_TRY_ASSIGN(wire::BulkResponse response, transport.bulk(peer, request, deadline));
  if (!response.has_record() || response.record().status() != wire::FETCH_OK) {
    return Error(ErrorCode::not_found, concat("member ", peer, " has no copy of the record"));
  }
  return Bytes(response.record().data().begin(), response.record().data().end());
}

wire::BulkResponse serve_bulk(store::Journal& journal, const wire::BulkRequest& request,
                              uint64_t chunk_bytes_max) {
  wire::BulkResponse response;
  if (request.has_halog()) {
    response = serve_halog(journal, request.halog());
  } else if (request.has_prefix()) {
    response = serve_prefix(journal, request.prefix(), chunk_bytes_max);
  } else if (request.has_record()) {
    response = serve_record(journal, request.record());
  }
  response.set_request_id(request.request_id());
  return response;
}

}  // namespace quire::engine
