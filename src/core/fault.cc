// SPDX-License-Identifier: MIT
#include "monitor/fault.hpp"

namespace mon {

const char* describe(fault f) noexcept {
  switch (f) {
    case fault::none:
      return "no fault";
    case fault::control_truncated:
      return "the kernel cut the control data (MSG_CTRUNC)";
    case fault::control_malformed:
      return "malformed control data";
    case fault::two_rights_headers:
      return "two SCM_RIGHTS headers in one message";
    case fault::too_many_descriptors:
      return "more descriptors than the receiver takes";
    case fault::unexpected_pidfd:
      return "an SCM_PIDFD the receiver did not ask for";
    case fault::unexpected_control_type:
      return "a control message of an unexpected level or type";
    case fault::credentials_not_allowed:
      return "SCM_CREDENTIALS where none are expected";
    case fault::two_credentials_headers:
      return "two SCM_CREDENTIALS headers in one message";
    case fault::bad_magic:
      return "handshake message without the magic \"monH\"";
    case fault::body_too_long:
      return "handshake body longer than 256 bytes";
    case fault::unexpected_message_type:
      return "handshake message of an unexpected type";
    case fault::unknown_version:
      return "handshake version other than 1";
    case fault::malformed_extensions:
      return "malformed handshake extension list";
    case fault::critical_extension:
      return "unknown critical handshake extension";
    case fault::deny_too_short:
      return "deny message without a reason";
    case fault::record_length_mismatch:
      return "handshake record shorter or longer than its message";
    case fault::record_truncated:
      return "handshake record cut by the kernel (MSG_TRUNC)";
    case fault::credentials_missing:
      return "a read of the hello without SCM_CREDENTIALS";
    case fault::credentials_differ_between_reads:
      return "credentials differ between reads of the hello";
    case fault::credentials_not_peer:
      return "hello credentials are not those of the process that connected";
    case fault::refused_by_policy:
      return "refused by the server's policy";
    case fault::denied_by_server:
      return "the server denied the client";
    case fault::server_uid_mismatch:
      return "the server's uid is not the one required";
    case fault::peer_closed:
      return "end of file before the message was whole";
    case fault::frame_bad_magic:
      return "frame without the magic \"mF\"";
    case fault::frame_unknown_version:
      return "frame version other than 1";
    case fault::frame_too_many_descriptors:
      return "frame declares more descriptors than the receiver takes";
    case fault::descriptors_without_frame:
      return "descriptors on a read that does not start a frame";
    case fault::descriptor_count_mismatch:
      return "descriptors delivered differ from the frame's count";
    case fault::frame_too_large:
      return "frame payload larger than the receiver's buffer";
    case fault::frame_record_length_mismatch:
      return "frame record shorter or longer than its frame";
    case fault::frame_cut_by_eof:
      return "end of file inside a frame";
  }
  return "unknown fault";
}

}  // namespace mon
