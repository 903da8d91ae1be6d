<?php

declare(strict_types=1);

namespace Opsync\Openprovider;

/**
 * Openprovider's REST API (v1beta) on curl, behaving as the native client does:
 *
 * - one login per run; the token is reused by every call, and cached across runs for its
 *   lifetime in a file only its owner can read; on code 196 the client logs in again once
 *   (calls in flight share that one new login) and retries once;
 * - success and failure judged by the envelope's `code`, never by the HTTP status; only
 *   transient failures (no answer, a timeout, an answer without an envelope, 4005
 *   maintenance) are retried, with backoff and jitter, bounded in count and time;
 *   business errors never are; code 10005 (IP blocked) stops every call at once;
 * - the bulk listing in pages of 500 and updates, several requests in flight
 *   (`curl_multi`); look-ups by name, 100 names a call;
 * - every call goes to the module log with the password and the token masked; neither
 *   appears in any error.
 */
final class Client
{
    /** The most of an answer the module log keeps (its column is TEXT, 64 KB). */
    private const LOGGED = 60000;

    /** A token lives about two days; reuse a cached one for less than that. */
    private const TOKEN_LIFETIME = 40 * 3600;

    private ?string $token = null;
    private bool $blocked = false;

    /** @var array{requests: int, retries: int, logins: int} */
    public array $stats = ['requests' => 0, 'retries' => 0, 'logins' => 0];

    /** @var \Closure(string, string, string, list<string>): void */
    private \Closure $log;

    /**
     * @param callable(string $action, string $request, string $response, list<string> $secrets): void|null $log
     *        where each call is recorded (WHMCS's module log); secrets are masked there
     */
    public function __construct(private readonly ClientConfig $config, ?callable $log = null)
    {
        $this->log = $log !== null ? \Closure::fromCallable($log) : static function (): void {
        };
    }

    /** Every domain of the account, in pages, several at a time. */
    public function listAll(): Listing
    {
        $size = $this->config->pageSize;
        $first = $this->one($this->listCall(0, $size));
        [$domains, $total] = self::pageOf($first);
        $pages = [['offset' => 0, 'domains' => $domains, 'total' => $total]];
        $offsets = [];
        for ($offset = $size; $offset < $total; $offset += $size) {
            $offsets[] = $offset;
        }
        $calls = array_map(fn (int $offset): array => $this->listCall($offset, $size), $offsets);
        foreach ($this->run($calls) as $i => $result) {
            if ($result instanceof ApiError) {
                throw $result;
            }
            [$domains, $pageTotal] = self::pageOf($result);
            $pages[] = ['offset' => $offsets[$i], 'domains' => $domains, 'total' => $pageTotal];
        }
        return Listing::judge($size, $total, $pages);
    }

    /**
     * The named domains (names as the engine pairs them: lower case, punycode). A name
     * the answer does not hold is `not_found`; the names of a call that failed for good
     * are `error`; a block (10005) fails the whole look-up.
     *
     * @param list<string> $names
     * @return array{domains: list<array<string, mixed>>, errors: list<array{domain: string, kind: string, message: string}>}
     */
    public function lookup(array $names): array
    {
        $chunks = array_chunk($names, 100);
        $calls = [];
        foreach ($chunks as $chunk) {
            $query = [];
            foreach ($chunk as $name) {
                $query[] = ['domain_names', $name];
            }
            $query[] = ['limit', '1000'];
            $calls[] = ['method' => 'GET', 'path' => '/domains', 'query' => $query, 'body' => null];
        }
        $found = ['domains' => [], 'errors' => []];
        foreach ($this->run($calls) as $i => $result) {
            if ($result instanceof ApiError && $result->kind === ApiError::BLOCKED) {
                throw $result;
            }
            if ($result instanceof ApiError) {
                foreach ($chunks[$i] as $name) {
                    $found['errors'][] = ['domain' => $name, 'kind' => 'error', 'message' => $result->getMessage()];
                }
                continue;
            }
            [$domains] = self::pageOf($result);
            $listed = [];
            foreach ($domains as $domain) {
                $listed[strtolower(($domain['domain']['name'] ?? '') . '.' . ($domain['domain']['extension'] ?? ''))] = true;
                $found['domains'][] = $domain;
            }
            foreach ($chunks[$i] as $name) {
                if (!isset($listed[strtolower($name)])) {
                    $found['errors'][] = [
                        'domain' => $name,
                        'kind' => 'not_found',
                        'message' => 'Openprovider does not list this domain in the account',
                    ];
                }
            }
        }
        return $found;
    }

    /**
     * Deleted domains by name (`is_deleted=true`, 100 names a call), as Openprovider's own
     * module looks up a domain its listing lacks. Each domain found comes back marked
     * `is_deleted` for the engine (contract v1.1). A call that fails for good leaves its
     * names out (their rows stay as the listing left them); a block (10005) is thrown.
     *
     * @param list<string> $names
     * @return list<array<string, mixed>>
     */
    public function lookupDeleted(array $names): array
    {
        $calls = [];
        foreach (array_chunk($names, 100) as $chunk) {
            $query = [];
            foreach ($chunk as $name) {
                $query[] = ['domain_names', $name];
            }
            $query[] = ['is_deleted', 'true'];
            $query[] = ['limit', '1000'];
            $calls[] = ['method' => 'GET', 'path' => '/domains', 'query' => $query, 'body' => null];
        }
        $found = [];
        foreach ($this->run($calls) as $result) {
            if ($result instanceof ApiError && $result->kind === ApiError::BLOCKED) {
                throw $result;
            }
            if ($result instanceof ApiError) {
                continue;
            }
            [$domains] = self::pageOf($result);
            foreach ($domains as $domain) {
                $domain['is_deleted'] = true;
                $found[] = $domain;
            }
        }
        return $found;
    }

    /**
     * One `PUT /domains/{id}` per update, with its body exactly as given, several at a time.
     *
     * @param list<array{id: int, body: array<string, mixed>}> $updates
     * @return list<mixed|ApiError> per update, in order: the answer's data, or why it failed
     */
    public function updateMany(array $updates): array
    {
        $calls = array_map(static fn (array $u): array => [
            'method' => 'PUT',
            'path' => '/domains/' . $u['id'],
            'query' => [],
            'body' => $u['body'],
        ], $updates);
        return $this->run($calls);
    }

    /** @return array{method: string, path: string, query: list<array{string, string}>, body: null} */
    private function listCall(int $offset, int $limit): array
    {
        return ['method' => 'GET', 'path' => '/domains', 'query' => [
            ['limit', (string) $limit],
            ['offset', (string) $offset],
            ['order_by.id', 'asc'],
        ], 'body' => null];
    }

    /**
     * @param mixed $data
     * @return array{0: list<array<string, mixed>>, 1: int}
     */
    private static function pageOf($data): array
    {
        if (!\is_array($data) || !\is_int($data['total'] ?? null)) {
            throw ApiError::unavailable(1, 'a listing without a total');
        }
        $results = \is_array($data['results'] ?? null) ? array_values($data['results']) : [];
        return [$results, $data['total']];
    }

    /**
     * One call; its data, or the failure thrown.
     *
     * @param array<string, mixed> $call
     * @return mixed
     */
    private function one(array $call)
    {
        $result = $this->run([$call])[0];
        if ($result instanceof ApiError) {
            throw $result;
        }
        return $result;
    }

    /**
     * Runs `$calls`, up to `concurrency` at a time, each with the session token, retries
     * and re-login as described above. Results in the order given: data or `ApiError`.
     *
     * @param list<array{method: string, path: string, query: list<array{string, string}>, body: ?array<string, mixed>}> $calls
     * @return list<mixed>
     */
    private function run(array $calls): array
    {
        $results = [];
        if ($calls === []) {
            return $results;
        }
        try {
            $token = $this->token(null);
        } catch (ApiError $e) {
            return array_fill(0, \count($calls), $e);
        }
        $retry = $this->config->retry;
        $queue = [];
        foreach (array_keys($calls) as $i) {
            $queue[] = ['i' => $i, 'attempt' => 0, 'after' => 0.0, 'started' => microtime(true), 'relogged' => false];
        }
        $multi = curl_multi_init();
        /** @var array<int, array{item: array<string, mixed>, handle: \CurlHandle, token: string}> $active */
        $active = [];
        while ($queue !== [] || $active !== []) {
            if ($this->blocked) {
                foreach ($queue as $item) {
                    $results[$item['i']] = ApiError::blocked();
                }
                $queue = [];
            }
            $now = microtime(true);
            foreach ($queue as $k => $item) {
                if (\count($active) >= $this->config->concurrency) {
                    break;
                }
                if ($item['after'] > $now) {
                    continue;
                }
                unset($queue[$k]);
                $item['attempt']++;
                if ($item['attempt'] > 1) {
                    $this->stats['retries']++;
                }
                $handle = $this->handle($calls[$item['i']], $token);
                curl_multi_add_handle($multi, $handle);
                $active[spl_object_id($handle)] = ['item' => $item, 'handle' => $handle, 'token' => $token];
            }
            if ($active === []) {
                if ($queue === []) {
                    continue;
                }
                $next = min(array_column($queue, 'after'));
                usleep((int) max(1000, ($next - microtime(true)) * 1e6));
                continue;
            }
            curl_multi_exec($multi, $running);
            if ($running > 0) {
                curl_multi_select($multi, 0.05);
            }
            while (($info = curl_multi_info_read($multi)) !== false) {
                $handle = $info['handle'];
                $slot = $active[spl_object_id($handle)];
                unset($active[spl_object_id($handle)]);
                $call = $calls[$slot['item']['i']];
                $outcome = $this->judge($call, $handle, $info['result']);
                curl_multi_remove_handle($multi, $handle);
                $item = $slot['item'];
                [$kind, $value] = $outcome;
                if ($kind === 'data') {
                    $results[$item['i']] = $value;
                    continue;
                }
                if ($kind === 'code' && $value[0] === 10005) {
                    $this->blocked = true;
                    $results[$item['i']] = ApiError::blocked();
                    continue;
                }
                if ($kind === 'code' && $value[0] === 196) {
                    if ($item['relogged']) {
                        $results[$item['i']] = ApiError::login();
                        continue;
                    }
                    // Calls in flight with the same old token share one new login.
                    try {
                        $token = $slot['token'] === $token ? $this->token($token) : $token;
                    } catch (ApiError $e) {
                        $results[$item['i']] = $e;
                        continue;
                    }
                    $queue[] = ['i' => $item['i'], 'attempt' => 0, 'after' => 0.0, 'started' => microtime(true), 'relogged' => true];
                    continue;
                }
                if ($kind === 'code' && $value[0] !== 4005) {
                    $results[$item['i']] = ApiError::business($value[0], $value[1]);
                    continue;
                }
                $why = $kind === 'code' ? "maintenance (4005: {$value[1]})" : $value;
                $delay = $this->backoff($item['attempt']);
                $elapsed = microtime(true) - $item['started'];
                if ($item['attempt'] >= $retry->attempts || $elapsed + $delay > $retry->maxElapsedSeconds) {
                    $results[$item['i']] = ApiError::unavailable($item['attempt'], $why);
                    continue;
                }
                $item['after'] = microtime(true) + $delay;
                $queue[] = $item;
            }
        }
        curl_multi_close($multi);
        ksort($results);
        return array_values($results);
    }

    /** @param array{method: string, path: string, query: list<array{string, string}>, body: ?array<string, mixed>} $call */
    private function handle(array $call, ?string $token): \CurlHandle
    {
        $this->stats['requests']++;
        $url = rtrim($this->config->baseUrl, '/') . $call['path'];
        if ($call['query'] !== []) {
            $url .= '?' . implode('&', array_map(
                static fn (array $kv): string => rawurlencode($kv[0]) . '=' . rawurlencode($kv[1]),
                $call['query']
            ));
        }
        $headers = ['Accept: application/json'];
        if ($token !== null) {
            $headers[] = "Authorization: Bearer $token";
        }
        $handle = curl_init($url);
        \assert($handle instanceof \CurlHandle);
        $options = [
            CURLOPT_CUSTOMREQUEST => $call['method'],
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => (int) ($this->config->timeoutSeconds * 1000),
            CURLOPT_CONNECTTIMEOUT_MS => (int) (min($this->config->timeoutSeconds, 10) * 1000),
            CURLOPT_USERAGENT => 'opsync-whmcs/0.1.0',
            CURLOPT_SSL_VERIFYPEER => true,
            CURLOPT_SSL_VERIFYHOST => 2,
            CURLOPT_FOLLOWLOCATION => false,
        ];
        if ($call['body'] !== null) {
            $headers[] = 'Content-Type: application/json';
            $options[CURLOPT_POSTFIELDS] = self::json($call['body']);
        }
        $options[CURLOPT_HTTPHEADER] = $headers;
        curl_setopt_array($handle, $options);
        return $handle;
    }

    /**
     * What one finished request came to: `['data', data]`, `['code', [code, desc]]` for an
     * envelope with a non-zero code, or `['transient', why]` for no usable answer.
     *
     * @param array{method: string, path: string, query: list<array{string, string}>, body: ?array<string, mixed>} $call
     * @return array{0: string, 1: mixed}
     */
    private function judge(array $call, \CurlHandle $handle, int $curlResult): array
    {
        $what = "{$call['method']} {$call['path']}";
        $body = (string) curl_multi_getcontent($handle);
        $status = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
        $request = $call['body'] !== null ? self::json($call['body']) : self::queryText($call['query']);
        $secrets = $this->secrets();
        if ($call['path'] === '/auth/login') {
            // The new token is in this very answer: mask it too.
            $issued = json_decode($body, true)['data']['token'] ?? null;
            if (\is_string($issued) && $issued !== '') {
                $secrets[] = $issued;
            }
        }
        ($this->log)($what, $request, self::shortened($curlResult === CURLE_OK ? $body : curl_error($handle)), $secrets);
        if ($curlResult === CURLE_OPERATION_TIMEDOUT) {
            return ['transient', "$what: timed out"];
        }
        if ($curlResult !== CURLE_OK) {
            return ['transient', "$what: " . curl_strerror($curlResult)];
        }
        $envelope = json_decode($body, true);
        if (!\is_array($envelope) || !\is_int($envelope['code'] ?? null)) {
            return ['transient', "$what: HTTP $status without an Openprovider answer"];
        }
        if ($envelope['code'] === 0) {
            return ['data', $envelope['data'] ?? null];
        }
        return ['code', [$envelope['code'], (string) ($envelope['desc'] ?? '')]];
    }

    /**
     * The token to use: the one in memory, else a cached one, else a new login. With
     * `$rejected`, that token is dropped (and forgotten on disk) and a new one obtained.
     */
    private function token(?string $rejected): string
    {
        if ($rejected !== null && $this->token === $rejected) {
            $this->token = null;
            $this->forgetCachedToken();
        }
        if ($this->token !== null) {
            return $this->token;
        }
        if ($rejected === null) {
            $cached = $this->cachedToken();
            if ($cached !== null) {
                return $this->token = $cached;
            }
        }
        $this->stats['logins']++;
        $call = ['method' => 'POST', 'path' => '/auth/login', 'query' => [], 'body' => [
            'username' => $this->config->username,
            'password' => $this->config->password,
            'ip' => '0.0.0.0',
        ]];
        $saved = $this->token;
        $data = $this->loginCall($call);
        $token = \is_array($data) && \is_string($data['token'] ?? null) && $data['token'] !== '' ? $data['token'] : null;
        if ($token === null) {
            $this->token = $saved;
            throw ApiError::unavailable(1, 'the login answer held no token');
        }
        $this->storeToken($token);
        return $this->token = $token;
    }

    /**
     * The login itself: retried like any call, 196 meaning the credentials are wrong.
     *
     * @param array{method: string, path: string, query: list<array{string, string}>, body: array<string, mixed>} $call
     * @return mixed
     */
    private function loginCall(array $call)
    {
        $retry = $this->config->retry;
        $started = microtime(true);
        for ($attempt = 1;; $attempt++) {
            if ($this->blocked) {
                throw ApiError::blocked();
            }
            if ($attempt > 1) {
                $this->stats['retries']++;
            }
            $handle = $this->handle($call, null);
            curl_exec($handle);
            [$kind, $value] = $this->judge($call, $handle, curl_errno($handle));
            if ($kind === 'data') {
                return $value;
            }
            if ($kind === 'code' && $value[0] === 196) {
                throw ApiError::login();
            }
            if ($kind === 'code' && $value[0] === 10005) {
                $this->blocked = true;
                throw ApiError::blocked();
            }
            if ($kind === 'code' && $value[0] !== 4005) {
                throw ApiError::business($value[0], $value[1]);
            }
            $why = $kind === 'code' ? "maintenance (4005: {$value[1]})" : $value;
            $delay = $this->backoff($attempt);
            if ($attempt >= $retry->attempts || microtime(true) - $started + $delay > $retry->maxElapsedSeconds) {
                throw ApiError::unavailable($attempt, $why);
            }
            usleep((int) ($delay * 1e6));
        }
    }

    /** Exponential backoff with jitter: half to all of `first * 2^(attempt-1)`, capped. */
    private function backoff(int $attempt): float
    {
        $retry = $this->config->retry;
        $base = min($retry->firstDelaySeconds * (2 ** min($attempt - 1, 16)), $retry->maxDelaySeconds);
        return $base * (0.5 + mt_rand(0, 1000) / 2000);
    }

    private function cachedToken(): ?string
    {
        $path = $this->config->tokenCache;
        if ($path === null || !is_file($path)) {
            return null;
        }
        $cached = json_decode((string) @file_get_contents($path), true);
        if (!\is_array($cached)) {
            return null;
        }
        $fresh = ($cached['base_url'] ?? null) === $this->config->baseUrl
            && ($cached['username'] ?? null) === $this->config->username
            && time() - (int) ($cached['obtained_at'] ?? 0) < self::TOKEN_LIFETIME
            && \is_string($cached['token'] ?? null) && $cached['token'] !== '';
        return $fresh ? $cached['token'] : null;
    }

    private function storeToken(string $token): void
    {
        $path = $this->config->tokenCache;
        if ($path === null) {
            return;
        }
        $dir = \dirname($path);
        if (!is_dir($dir) && !@mkdir($dir, 0700, true)) {
            return;
        }
        // Written under a fresh name with mode 0600, then moved into place.
        $tmp = $path . '.' . getmypid() . '.tmp';
        $old = umask(0077);
        try {
            $written = @file_put_contents($tmp, self::json([
                'base_url' => $this->config->baseUrl,
                'username' => $this->config->username,
                'token' => $token,
                'obtained_at' => time(),
            ]));
        } finally {
            umask($old);
        }
        if ($written === false || !@chmod($tmp, 0600) || !@rename($tmp, $path)) {
            @unlink($tmp);
        }
    }

    private function forgetCachedToken(): void
    {
        if ($this->config->tokenCache !== null) {
            @unlink($this->config->tokenCache);
        }
    }

    /** @return list<string> what the module log must never show */
    private function secrets(): array
    {
        return array_values(array_filter([$this->config->password, $this->token], static fn ($s) => \is_string($s) && $s !== ''));
    }

    /** A module log entry's answer: at most LOGGED bytes (a listing page is hundreds of KB). */
    private static function shortened(string $text): string
    {
        if (\strlen($text) <= self::LOGGED) {
            return $text;
        }
        // Cut before a UTF-8 character, not inside one.
        $cut = self::LOGGED;
        while ($cut > 0 && (\ord($text[$cut]) & 0xC0) === 0x80) {
            $cut--;
        }
        return substr($text, 0, $cut) . ' ... (' . \strlen($text) . ' bytes in all)';
    }

    /** @param list<array{string, string}> $query */
    private static function queryText(array $query): string
    {
        return implode('&', array_map(static fn (array $kv): string => "{$kv[0]}={$kv[1]}", $query));
    }

    /** @param array<string, mixed> $value */
    private static function json(array $value): string
    {
        return json_encode($value, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    }
}
