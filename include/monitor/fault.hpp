// SPDX-License-Identifier: MIT
// mon::fault: what exactly was wrong, for logs, behind the coarse result codes (MON_ERR_PROTOCOL,
// MON_ERR_TRUNCATED, MON_ERR_DENIED) that callers act on. The state or buffer that saw a failure
// keeps its fault (auth machines: last_fault()); the codes callers get are unchanged. A fault never
// names a peer-written value, only what the library concluded, so it is safe to log.
#pragma once

#include <cstdint>

#include "monitor/export.h"

namespace mon {

// One value per conclusion the library can reach about a peer's bytes or control data, grouped by
// the layer that reaches it. The numbers are stable: logs and metrics may store them.
// clang-format off
enum class fault : std::uint16_t {
  none = 0,

  // Control data of one recvmsg (src/cmsg/control.cc).
  control_truncated = 1,            // MSG_CTRUNC: the kernel cut the control data (TRUNCATED)
  control_malformed = 2,            // a header shorter than itself or longer than the buffer, a
                                    // rights payload not a whole number of ints, a negative fd,
                                    // credentials of the wrong size
  two_rights_headers = 3,           // more than one SCM_RIGHTS header in one message
  too_many_descriptors = 4,         // more descriptors than the receiver takes
  unexpected_pidfd = 5,             // an SCM_PIDFD nobody asked for
  unexpected_control_type = 6,      // a control message of any other level or type
  credentials_not_allowed = 7,      // SCM_CREDENTIALS where none are expected
  two_credentials_headers = 8,      // more than one SCM_CREDENTIALS header in one message

  // Handshake messages (src/auth/).
  bad_magic = 20,                   // not "monH"
  body_too_long = 21,               // body_len above 256
  unexpected_message_type = 22,     // not a hello (server), not accept or deny (client)
  unknown_version = 23,             // version other than 1
  malformed_extensions = 24,        // an extension list that does not fill its body exactly
  critical_extension = 25,          // an unknown extension marked critical
  deny_too_short = 26,              // a deny body without its 2-byte reason
  record_length_mismatch = 27,      // a SOCK_SEQPACKET record not exactly one whole message
  record_truncated = 28,            // MSG_TRUNC on a SOCK_SEQPACKET record
  credentials_missing = 29,         // a read of the hello without SCM_CREDENTIALS
  credentials_differ_between_reads = 30,  // two reads of one hello, two different senders
  credentials_not_peer = 31,        // the hello's credentials are not SO_PEERCRED's
  refused_by_policy = 32,           // the server's policy said no
  denied_by_server = 33,            // the server sent a deny (its reason: reason())
  server_uid_mismatch = 34,         // require_server_uid: SO_PEERCRED of the server differs
  peer_closed = 35,                 // end of file before the message was whole

  // Frames (src/frame/).
  frame_bad_magic = 40,             // not "mF"
  frame_unknown_version = 41,       // version other than 1
  frame_too_many_descriptors = 42,  // num_fds above 253, or above what the receiver takes
  descriptors_without_frame = 43,   // descriptors on a read after the header's first byte
  descriptor_count_mismatch = 44,   // descriptors delivered differ from num_fds
  frame_too_large = 45,             // payload_len above the receiver's buffer (TOOBIG)
  frame_record_length_mismatch = 46,  // a SOCK_SEQPACKET record not exactly one whole frame
  frame_cut_by_eof = 47,            // end of file inside a frame
};
// clang-format on

// A short English sentence for a fault ("two SCM_RIGHTS headers in one message"), never null;
// "unknown fault" for a value this build does not know.
MON_API const char* describe(fault f) noexcept;

}  // namespace mon
