/* opsync engine, C ABI (libopsync_php.so). Loaded by PHP's FFI::cdef, so this file holds
 * declarations only; C callers include <stddef.h> and <stdint.h> first.
 *
 * Each call returns 0 (*out holds the answer, JSON), 1 (the request is invalid: *out
 * holds the one-line error naming its JSON path) or 2 (the engine could not answer:
 * *out holds a one-line message). *out is not NUL-terminated; free it with opsync_free.
 */
int32_t opsync_decide(const char *request, size_t request_len, uint8_t **out, size_t *out_len);
int32_t opsync_render_report(const char *input, size_t input_len, uint8_t **out, size_t *out_len);
int32_t opsync_lookup_names(const char *input, size_t input_len, uint8_t **out, size_t *out_len);
int32_t opsync_settings(const char *input, size_t input_len, uint8_t **out, size_t *out_len);
int32_t opsync_version(uint8_t **out, size_t *out_len);
/* The run protocol: a run lives in its own instance, reached through its handle. */
int32_t opsync_run_start(const char *start, size_t start_len, uint64_t *handle, uint8_t **out, size_t *out_len);
int32_t opsync_run_feed(uint64_t handle, const char *header, size_t header_len, const char *body, size_t body_len, uint8_t **out, size_t *out_len);
void opsync_run_free(uint64_t handle);
void opsync_free(uint8_t *ptr, size_t len);
