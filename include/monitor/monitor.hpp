// SPDX-License-Identifier: MIT
// The whole C++ API of monitor. The C ABI (monitor/monitor.h) is a thin layer over it.
#pragma once

#include "monitor/batch.hpp"
#include "monitor/credentials.hpp"
#include "monitor/fd_list.hpp"
#include "monitor/handshake.hpp"
#include "monitor/listener.hpp"
#include "monitor/message.hpp"
#include "monitor/monitor.h"
#include "monitor/peer_info.hpp"
#include "monitor/receive_filter.hpp"
#include "monitor/refused_fds.hpp"
#include "monitor/result.hpp"
#include "monitor/shm.hpp"
#include "monitor/unique_fd.hpp"
