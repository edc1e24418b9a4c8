// SPDX-License-Identifier: MIT
#include "monitor/fault.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace mon {

namespace {

using sentence = std::pair<fault, const char*>;

// clang-format off
constexpr sentence sentences[] = {
    {fault::none, "no fault"},
    {fault::control_truncated, "the kernel cut the control data (MSG_CTRUNC)"},
    {fault::control_malformed, "malformed control data"},
    {fault::two_rights_headers, "two SCM_RIGHTS headers in one message"},
    {fault::too_many_descriptors, "more descriptors than the receiver takes"},
    {fault::unexpected_pidfd, "an SCM_PIDFD the receiver did not ask for"},
    {fault::unexpected_control_type, "a control message of an unexpected level or type"},
    {fault::credentials_not_allowed, "SCM_CREDENTIALS where none are expected"},
    {fault::two_credentials_headers, "two SCM_CREDENTIALS headers in one message"},
    {fault::bad_magic, "handshake message without the magic \"monH\""},
    {fault::body_too_long, "handshake body longer than 256 bytes"},
    {fault::unexpected_message_type, "handshake message of an unexpected type"},
    {fault::unknown_version, "handshake version other than 1"},
    {fault::malformed_extensions, "malformed handshake extension list"},
    {fault::critical_extension, "unknown critical handshake extension"},
    {fault::deny_too_short, "deny message without a reason"},
    {fault::record_length_mismatch, "handshake record shorter or longer than its message"},
    {fault::record_truncated, "handshake record cut by the kernel (MSG_TRUNC)"},
    {fault::credentials_missing, "a read of the hello without SCM_CREDENTIALS"},
    {fault::credentials_differ_between_reads, "credentials differ between reads of the hello"},
    {fault::credentials_not_peer, "hello credentials are not those of the process that connected"},
    {fault::refused_by_policy, "refused by the server's policy"},
    {fault::denied_by_server, "the server denied the client"},
    {fault::server_uid_mismatch, "the server's uid is not the one required"},
    {fault::peer_closed, "end of file before the message was whole"},
    {fault::frame_bad_magic, "frame without the magic \"mF\""},
    {fault::frame_unknown_version, "frame version other than 1"},
    {fault::frame_too_many_descriptors, "frame declares more descriptors than the receiver takes"},
    {fault::descriptors_without_frame, "descriptors on a read that does not start a frame"},
    {fault::descriptor_count_mismatch, "descriptors delivered differ from the frame's count"},
    {fault::frame_too_large, "frame payload larger than the receiver's buffer"},
    {fault::frame_record_length_mismatch, "frame record shorter or longer than its frame"},
    {fault::frame_cut_by_eof, "end of file inside a frame"},
};
// clang-format on

}  // namespace

const char* describe(fault f) noexcept {
  const auto* it = std::find_if(std::begin(sentences), std::end(sentences),
                                [f](const sentence& s) { return s.first == f; });
  return it != std::end(sentences) ? it->second : "unknown fault";
}

}  // namespace mon
