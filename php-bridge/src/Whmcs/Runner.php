<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\Engine;
use Opsync\EngineRun;

/**
 * The drop-in's host of a run: it carries out what the engine's run asks and says what
 * happened, nothing more. The engine (engine.wasm through the FFI library) holds the run;
 * this loop is the whole of the I/O side, as in the native runner
 * (`host-runner/src/run.rs`):
 *
 *     outputs = engine.startRun(start)
 *     loop:
 *         each request: HTTP -> curl_multi at once; log -> the log; the rest -> in line
 *         the outcome? done
 *         input = the next database request carried out, else the first HTTP answer or
 *                 the wake-up the engine asked for, whichever comes first
 *         outputs = run.feed(input)
 *
 * Database requests go through WHMCS's PDO one after the other, in the order asked;
 * every HTTP call goes to WHMCS's module log with its secrets masked (an answer the
 * engine marks secret is left out). `OPSYNC_TRACE=FILE` writes every request and answer
 * (secrets masked, bodies as their length) as JSON lines, as the native runner does.
 */
final class Runner
{
    private const JSON = JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;

    /** The most of an answer the module log keeps (its column is TEXT, 64 KB). */
    private const LOGGED = 60000;

    /** @var \Closure(string): void */
    private \Closure $say;

    /** @var resource|null */
    private $trace = null;

    /** @var list<string> secrets the trace masks */
    private array $secrets = [];

    /** @var list<int> the read_token requests: their answers hold the cached session */
    private array $tokenReads = [];

    /** @param ?callable(string): void $say progress lines (`--verbose`) */
    public function __construct(
        private readonly Host $host,
        private readonly Engine $engine,
        private readonly Settings $settings,
        ?callable $say = null,
    ) {
        $this->say = $say !== null ? \Closure::fromCallable($say) : static function (): void {
        };
    }

    /**
     * A run's start: the settings as WHMCS holds them, the time, the mode.
     *
     * @param array<string, mixed> $options the run's options (`batch`, `all`, `allow_mass_change`, `domain_id`, ...)
     * @return array<string, mixed>
     */
    public function start(string $mode, array $options = []): array
    {
        return [
            'protocol' => 1,
            'host' => 'whmcs',
            'mode' => $mode,
            'now' => date('Y-m-d H:i:s'),
            'epoch_seconds' => time(),
            'seed' => random_int(1, PHP_INT_MAX),
            'settings' => $this->settings->raw,
            'options' => (object) $options,
            // What the module's files show broken (a module update's old cron): the report says so.
            'host_problems' => array_values(array_map(
                static fn (array $f): string => $f['text'],
                array_filter(ModuleFiles::check($this->host->rootDir()), static fn (array $f): bool => $f['level'] === 'warning')
            )),
        ];
    }

    /**
     * Runs `$start` to its outcome.
     *
     * @param array<string, mixed> $start
     * @return array<string, mixed> the engine's outcome
     * @throws \Opsync\OpsyncException when the engine could not go on
     */
    public function run(array $start): array
    {
        $clock = hrtime(true);
        $this->openTrace();
        $run = $this->engine->startRun(json_encode($start, self::JSON));
        $outputs = $this->decode((string) $run->first());
        $store = new Store($this->host->pdo(), $this->host);
        $multi = curl_multi_init();
        /** @var array<int, array{id: int, call: array<string, mixed>, handle: \CurlHandle}> $calls */
        $calls = [];
        /** @var list<array<string, mixed>> $queue */
        $queue = [];
        try {
            while (true) {
                foreach ($outputs['requests'] as $request) {
                    $this->traceRequest($request);
                    if ($request['kind'] === 'log') {
                        $this->log($request);
                    } elseif ($request['kind'] === 'http') {
                        $handle = $this->handle($request);
                        curl_multi_add_handle($multi, $handle);
                        $calls[spl_object_id($handle)] = ['id' => $request['id'], 'call' => $request, 'handle' => $handle];
                    } else {
                        $queue[] = $request;
                    }
                }
                if ($outputs['outcome'] !== null) {
                    return $outputs['outcome'];
                }
                if ($queue !== []) {
                    $request = array_shift($queue);
                    [$answer, $body] = $this->carryOut($store, $request);
                    $input = ['now_ms' => self::elapsed($clock), 'id' => $request['id']] + $answer;
                } else {
                    [$input, $body] = $this->nextAnswer($multi, $calls, $outputs['wake_at_ms'], $clock);
                }
                $this->traceInput($input, \strlen($body));
                $outputs = $this->decode($run->feed(json_encode($input, self::JSON), $body));
            }
        } finally {
            foreach ($calls as $c) {
                curl_multi_remove_handle($multi, $c['handle']);
            }
            curl_multi_close($multi);
            try {
                $store->unlock();
            } catch (\PDOException) {
                // The connection is gone, and the lock with it: the outcome says why.
            }
            if ($this->trace !== null) {
                fclose($this->trace);
                $this->trace = null;
            }
        }
    }

    /** @return array<string, mixed> */
    private function decode(string $outputs): array
    {
        return json_decode($outputs, true, 512, JSON_THROW_ON_ERROR);
    }

    private static function elapsed(int|float $clock): int
    {
        return (int) ((hrtime(true) - $clock) / 1_000_000);
    }

    /**
     * The first HTTP answer, or the wake-up, whichever comes first.
     *
     * @param array<int, array{id: int, call: array<string, mixed>, handle: \CurlHandle}> $calls
     * @return array{0: array<string, mixed>, 1: string}
     */
    private function nextAnswer(\CurlMultiHandle $multi, array &$calls, ?int $wakeAt, int|float $clock): array
    {
        while (true) {
            do {
                $status = curl_multi_exec($multi, $running);
            } while ($status === CURLM_CALL_MULTI_PERFORM);
            while (($done = curl_multi_info_read($multi)) !== false) {
                $handle = $done['handle'];
                $key = spl_object_id($handle);
                if (!isset($calls[$key])) {
                    continue;
                }
                ['id' => $id, 'call' => $call] = $calls[$key];
                unset($calls[$key]);
                $body = (string) curl_multi_getcontent($handle);
                $result = (int) $done['result'];
                curl_multi_remove_handle($multi, $handle);
                $this->moduleLog($call, $result === CURLE_OK ? $body : curl_strerror($result));
                $now = self::elapsed($clock);
                if ($result === CURLE_OPERATION_TIMEDOUT) {
                    return [['now_ms' => $now, 'id' => $id, 'error' => 'timed out'], ''];
                }
                if ($result !== CURLE_OK) {
                    return [['now_ms' => $now, 'id' => $id, 'error' => curl_strerror($result)], ''];
                }
                $status = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
                return [['now_ms' => $now, 'id' => $id, 'ok' => ['status' => $status]], $body];
            }
            $now = self::elapsed($clock);
            if ($wakeAt !== null && $now >= $wakeAt) {
                return [['now_ms' => $now], ''];
            }
            if ($calls === []) {
                if ($wakeAt === null) {
                    throw new \Opsync\EngineFailure('the run waits for nothing: no request is outstanding');
                }
                usleep(max(1, $wakeAt - $now) * 1000);
                continue;
            }
            $wait = $wakeAt === null ? 1.0 : max(0.001, min(1.0, ($wakeAt - $now) / 1000));
            curl_multi_select($multi, $wait);
        }
    }

    /** @param array<string, mixed> $request */
    private function handle(array $request): \CurlHandle
    {
        $url = $request['url'];
        if ($request['query'] !== []) {
            $url .= '?' . implode('&', array_map(
                static fn (array $kv): string => rawurlencode($kv[0]) . '=' . rawurlencode($kv[1]),
                $request['query']
            ));
        }
        $headers = ['Accept: application/json'];
        if ($request['bearer'] !== null) {
            $headers[] = 'Authorization: Bearer ' . $request['bearer'];
        }
        $handle = curl_init($url);
        \assert($handle instanceof \CurlHandle);
        $options = [
            CURLOPT_CUSTOMREQUEST => $request['method'],
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => (int) $request['timeout_ms'],
            CURLOPT_CONNECTTIMEOUT_MS => min((int) $request['timeout_ms'], 10000),
            CURLOPT_USERAGENT => 'opsync-whmcs/0.1.0',
            CURLOPT_SSL_VERIFYPEER => true,
            CURLOPT_SSL_VERIFYHOST => 2,
            CURLOPT_FOLLOWLOCATION => false,
        ];
        if ($request['body'] !== null) {
            $headers[] = 'Content-Type: application/json';
            $options[CURLOPT_POSTFIELDS] = json_encode($request['body'], self::JSON);
        }
        $options[CURLOPT_HTTPHEADER] = $headers;
        curl_setopt_array($handle, $options);
        return $handle;
    }

    /** One call in WHMCS's module log, its secrets masked; a secret answer left out. */
    private function moduleLog(array $call, string $answer): void
    {
        $path = (string) (parse_url($call['url'], PHP_URL_PATH) ?? '');
        $path = (string) preg_replace('#\A.*/v1beta#', '', $path);
        $sent = $call['body'] !== null
            ? json_encode($call['body'], self::JSON)
            : implode('&', array_map(static fn (array $kv): string => "{$kv[0]}={$kv[1]}", $call['query']));
        if ($call['answer_is_secret'] ?? false) {
            $answer = '(the answer holds the session token: not logged)';
        } elseif (\strlen($answer) > self::LOGGED) {
            $cut = self::LOGGED;
            while ($cut > 0 && (\ord($answer[$cut]) & 0xC0) === 0x80) {
                $cut--;
            }
            $answer = substr($answer, 0, $cut) . ' ... (' . \strlen($answer) . ' bytes in all)';
        }
        $this->host->moduleLog("{$call['method']} $path", (string) $sent, $answer, $call['secrets']);
    }

    /** @param array<string, mixed> $request */
    private function log(array $request): void
    {
        $fields = $request['fields'] ?? [];
        if (isset($fields['step'])) {
            ($this->say)(sprintf('step %s took %s s', $fields['step'], $fields['seconds'] ?? '?'));
            return;
        }
        ($this->say)($request['message']);
        if ($request['level'] === 'error' || $request['level'] === 'warn') {
            $this->host->moduleLog('run', '', $request['message'], []);
        }
    }

    /**
     * A request that is not HTTP, carried out: its answer (`ok` or `error`) and body.
     *
     * @param array<string, mixed> $r
     * @return array{0: array<string, mixed>, 1: string}
     */
    private function carryOut(Store $store, array $r): array
    {
        $ok = static fn (array $value = []): array => ['ok' => (object) $value];
        try {
            switch ($r['kind']) {
                case 'lock':
                    return [$ok(['locked' => $store->lock()]), ''];
                case 'unlock':
                    $store->unlock();
                    return [$ok(), ''];
                case 'read_state':
                    return [$ok($store->readState()), ''];
                case 'read_rows':
                    return [$ok(), $store->readRows($r['after'], (int) $r['limit'])];
                case 'read_batch':
                    return [$ok(), $store->readBatch((int) $r['limit'], $r['synced_before'] ?? null)];
                case 'read_row':
                    return [$ok(), $store->readRow((int) $r['row'])];
                case 'read_names':
                    return [$ok(), $store->readNames($r['after'], (int) $r['limit'])];
                case 'read_rows_by_id':
                    return [$ok(), $store->readRowsById(array_map('intval', $r['ids']))];
                case 'write_row':
                    return [$ok(['written' => $store->writeRow($r['update'], $r['activity'], (int) $r['userid'])]), ''];
                case 'write_activity':
                    $store->writeActivity($r['lines'], (int) $r['userid']);
                    return [$ok(), ''];
                case 'mark_synced':
                    $store->markSynced(array_map('intval', $r['ids']), (string) $r['date']);
                    return [$ok(), ''];
                case 'store_memory':
                    $store->storeMemory($r['open_problems'], $r['still_open_mailed_at']);
                    return [$ok(), ''];
                case 'record_run':
                    $store->recordRun($r);
                    return [$ok(), ''];
                case 'send_report':
                    // WHMCS wraps the message in its own mail document: the body alone.
                    $why = $this->host->mailAdmins($r['subject'], $r['body']);
                    return [$why === null ? $ok(['sent' => 0]) : ['error' => "WHMCS did not send the report: $why"], ''];
                case 'read_token':
                    return [$ok($this->readToken()), ''];
                case 'store_token':
                    return [$this->storeToken((string) $r['text']), ''];
                case 'forget_token':
                    if ($this->settings->tokenCache !== null) {
                        @unlink($this->settings->tokenCache);
                    }
                    return [$ok(), ''];
                default:
                    return [['error' => "this host does not carry out {$r['kind']}"], ''];
            }
        } catch (\PDOException $e) {
            return [['error' => Store::describe($e)], ''];
        } catch (StoreError $e) {
            return [['error' => $e->getMessage()], ''];
        }
    }

    /** @return array{text: ?string, problem?: string} the cached session, if it may be trusted */
    private function readToken(): array
    {
        $path = $this->settings->tokenCache;
        if ($path === null || !is_file($path)) {
            return ['text' => null];
        }
        $perms = @fileperms($path);
        $owner = @fileowner($path);
        $me = \function_exists('posix_geteuid') ? posix_geteuid() : $owner;
        if ($perms === false || ($perms & 0o077) !== 0 || $owner !== $me) {
            return ['text' => null, 'problem' => "$path: others may read it or it is not ours"];
        }
        $text = @file_get_contents($path);
        return ['text' => \is_string($text) ? $text : null];
    }

    /** @return array<string, mixed> */
    private function storeToken(string $text): array
    {
        $path = $this->settings->tokenCache;
        if ($path === null) {
            return ['ok' => new \stdClass()];
        }
        $dir = \dirname($path);
        if (!is_dir($dir) && !@mkdir($dir, 0700, true)) {
            return ['error' => "cannot create $dir"];
        }
        // Written under a fresh name with mode 0600, then moved into place.
        $tmp = $path . '.' . getmypid() . '.tmp';
        $old = umask(0077);
        try {
            $written = @file_put_contents($tmp, $text);
        } finally {
            umask($old);
        }
        if ($written === false || !@chmod($tmp, 0600) || !@rename($tmp, $path)) {
            @unlink($tmp);
            return ['error' => "cannot write $path"];
        }
        return ['ok' => new \stdClass()];
    }

    private function openTrace(): void
    {
        $path = getenv('OPSYNC_TRACE');
        if (\is_string($path) && $path !== '') {
            $file = @fopen($path, 'a');
            $this->trace = $file === false ? null : $file;
        }
    }

    /** @param array<string, mixed> $request */
    private function traceRequest(array $request): void
    {
        if ($this->trace === null) {
            return;
        }
        if ($request['kind'] === 'http') {
            foreach ($request['secrets'] as $s) {
                if ($s !== '' && !\in_array($s, $this->secrets, true)) {
                    $this->secrets[] = $s;
                }
            }
        }
        if ($request['kind'] === 'read_token') {
            $this->tokenReads[] = $request['id'];
        }
        if ($request['kind'] === 'store_token') {
            $request['text'] = '***';
        }
        $this->traceLine(['request' => $request]);
    }

    /** @param array<string, mixed> $input */
    private function traceInput(array $input, int $bodyBytes): void
    {
        if ($this->trace === null) {
            return;
        }
        if (isset($input['id']) && \in_array($input['id'], $this->tokenReads, true) && ($input['ok']->text ?? null) !== null) {
            $input['ok'] = ['text' => '***'];
        }
        $this->traceLine(['answer' => $input, 'body_bytes' => $bodyBytes]);
    }

    /** @param array<string, mixed> $line */
    private function traceLine(array $line): void
    {
        $text = json_encode($line, self::JSON);
        foreach ($this->secrets as $s) {
            $text = str_replace($s, '***', $text);
        }
        fwrite($this->trace, $text . "\n");
    }
}
