#include "dist/rendezvous.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/errors.h"
#include "dist/c10d_message.h"

namespace moonlight::dist {

namespace {

using Clock = std::chrono::steady_clock;

// How often a rank looks again for a master that refused the connection, and for ranks still missing.
constexpr std::chrono::milliseconds probeRetryInterval{50};
constexpr std::chrono::milliseconds joinPollInterval{10};
// The store's own handshake after a successful probe takes milliseconds; never hand it less than this.
constexpr std::chrono::milliseconds minimumStoreConnectTime{200};
const std::string joinedKey = "moonlight/rendezvous/joined";

int millisecondsUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(0, left));
}

// One non-blocking connect to `address`, bounded by the deadline; the socket is closed again at once (the
// store's server drops a client that closes without a request).
bool connectsBefore(const addrinfo& address, Clock::time_point deadline, std::string& lastError) {
  const int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address.ai_protocol);
  if (fd < 0) {
    lastError = std::strerror(errno);
    return false;
  }
  bool connected = false;
  if (::connect(fd, address.ai_addr, address.ai_addrlen) == 0) {
    connected = true;
  } else if (errno == EINPROGRESS) {
    pollfd watched{fd, POLLOUT, 0};
    const int ready = ::poll(&watched, 1, millisecondsUntil(deadline));
    if (ready == 1) {
      int socketError = 0;
      socklen_t length = sizeof socketError;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length);
      connected = socketError == 0;
      if (!connected) lastError = std::strerror(socketError);
    } else {
      lastError = ready == 0 ? "no answer to the connection attempt" : std::strerror(errno);
    }
  } else {
    lastError = std::strerror(errno);
  }
  ::close(fd);
  return connected;
}

bool masterListensBefore(const ProcessGroupOptions& options, Clock::time_point deadline, std::string& lastError) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  const std::string port = std::to_string(options.masterPort);
  while (true) {
    addrinfo* addresses = nullptr;
    const int resolved = ::getaddrinfo(options.masterAddr.c_str(), port.c_str(), &hints, &addresses);
    if (resolved != 0) {
      lastError = std::string("cannot resolve the address: ") + ::gai_strerror(resolved);
    } else {
      bool connected = false;
      for (const addrinfo* address = addresses; address != nullptr && !connected; address = address->ai_next) {
        connected = connectsBefore(*address, deadline, lastError);
      }
      ::freeaddrinfo(addresses);
      if (connected) return true;
    }
    const auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(probeRetryInterval, deadline - now));
  }
}

}  // namespace

c10::intrusive_ptr<::c10d::Store> rendezvous(const ProcessGroupOptions& options, const std::string& where) {
  const auto deadline = Clock::now() + options.timeout;
  const std::string timeoutText = std::to_string(options.timeout.count()) + " ms";
  const std::string master = options.masterAddr + ":" + std::to_string(options.masterPort);
  const bool isServer = options.rank == 0;
  if (!isServer) {
    std::string lastError;
    if (!masterListensBefore(options, deadline, lastError)) {
      fail(ErrorKind::Distributed, "could not reach the master " + master + " within " + timeoutText + " (" + where +
                                       "): " + lastError + ". Is rank 0 running, and are MASTER_ADDR/MASTER_PORT right?");
    }
  }

  ::c10d::TCPStoreOptions storeOptions;
  storeOptions.port = static_cast<std::uint16_t>(options.masterPort);
  storeOptions.isServer = isServer;
  storeOptions.numWorkers = static_cast<size_t>(options.worldSize);
  storeOptions.waitWorkers = false;  // joining is counted below, against our deadline
  storeOptions.timeout = std::max(std::chrono::milliseconds(millisecondsUntil(deadline)), minimumStoreConnectTime);
  c10::intrusive_ptr<::c10d::TCPStore> store;
  try {
    store = c10::make_intrusive<::c10d::TCPStore>(options.masterAddr, storeOptions);
  } catch (const std::exception& error) {
    const std::string cause = firstLine(error.what());
    if (isServer) {
      fail(ErrorKind::Distributed, "rank 0 could not serve the rendezvous on port " + std::to_string(options.masterPort) +
                                       " (" + where + "): is the port already in use? " + cause);
    }
    fail(ErrorKind::Distributed, "could not join the rendezvous at " + master + " within " + timeoutText + " (" +
                                     where + "): " + cause);
  }
  // Later store operations (the backends' own handshakes) get the whole timeout again.
  store->setTimeout(options.timeout);

  try {
    int64_t joined = store->add(joinedKey, 1);
    while (joined < options.worldSize) {
      if (Clock::now() >= deadline) {
        fail(ErrorKind::Distributed, "only " + std::to_string(joined) + " of " + std::to_string(options.worldSize) +
                                         " ranks joined the rendezvous within " + timeoutText + " (" + where +
                                         "); did every rank start, with the same WORLD_SIZE and MASTER_PORT?");
      }
      std::this_thread::sleep_for(joinPollInterval);
      joined = store->add(joinedKey, 0);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& error) {
    fail(ErrorKind::Distributed, "the rendezvous at " + master + " broke off (" + where + "): " + firstLine(error.what()));
  }
  return store;
}

}  // namespace moonlight::dist
