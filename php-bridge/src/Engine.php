<?php

declare(strict_types=1);

namespace Opsync;

use FFI;

/**
 * The opsync decision engine for PHP.
 *
 * Runs the same engine.wasm as the `opsync` command, through the opsync_php library and
 * PHP's FFI, so WHMCS and cron decide identically. Where FFI is not enabled (FPM with
 * `ffi.enable=preload` and no preloading, say), it runs the `opsync` command's verb of
 * the same name instead (`decide`, `render-report`, `lookup-names`, `version`). The answer is the same
 * bytes either way.
 *
 * Where things are found (first match wins):
 * - library: the constructor argument, `OPSYNC_PHP_LIB`, `../lib/libopsync_php.so`,
 *   the repository's `target/release` and `target/debug`;
 * - command: the constructor argument, `OPSYNC_BIN`, `opsync` on the PATH;
 * - mode: the constructor argument or `OPSYNC_ENGINE` (`ffi` or `command`), else FFI
 *   when it loads, else the command.
 */
final class Engine
{
    public const MODE_FFI = 'ffi';
    public const MODE_COMMAND = 'command';

    /** The FFI scope `preload.php` declares (`FFI_SCOPE` in `include/opsync-preload.h`). */
    public const FFI_SCOPE = 'OPSYNC';

    private const OK = 0;
    private const INVALID = 1;

    /** Exit status of `opsync decide` and `opsync render-report` for invalid input. */
    private const EXIT_INVALID = 1;

    private ?FFI $ffi = null;
    private ?string $binary = null;
    private string $mode;

    public function __construct(?string $library = null, ?string $binary = null, ?string $mode = null)
    {
        $mode ??= self::env('OPSYNC_ENGINE');
        if ($mode !== null && $mode !== self::MODE_FFI && $mode !== self::MODE_COMMAND) {
            throw new EngineUnavailable("Unknown engine mode \"$mode\" (use \"ffi\" or \"command\")");
        }

        $problems = [];
        if ($mode !== self::MODE_COMMAND) {
            try {
                $this->ffi = self::loadLibrary($library ?? self::locateLibrary());
                $this->mode = self::MODE_FFI;
                return;
            } catch (EngineUnavailable $e) {
                $problems[] = $e->getMessage();
                if ($mode === self::MODE_FFI) {
                    throw $e;
                }
            }
        }
        $binary ??= self::env('OPSYNC_BIN') ?? self::onPath('opsync');
        if (!\function_exists('proc_open')) {
            // A disabled function does not exist for PHP 8: calling it would be an Error.
            $problems[] = 'the opsync command cannot be started: proc_open is disabled on this server (disable_functions)';
            throw new EngineUnavailable('The opsync engine is unavailable: ' . implode('; ', $problems));
        }
        if ($binary !== null && is_file($binary) && is_executable($binary)) {
            $this->binary = $binary;
            $this->mode = self::MODE_COMMAND;
            return;
        }
        $problems[] = $binary === null
            ? 'no `opsync` command found (set OPSYNC_BIN or put opsync on the PATH)'
            : "the opsync command $binary is not an executable file";
        throw new EngineUnavailable('The opsync engine is unavailable: ' . implode('; ', $problems));
    }

    /** `ffi` or `command`: how this instance reaches the engine. */
    public function mode(): string
    {
        return $this->mode;
    }

    /**
     * Contract v1: the request's JSON in, the response's JSON out (exactly the bytes every
     * other face gives, without a trailing newline).
     *
     * @throws InvalidRequest when the request is invalid (the message names the JSON path)
     * @throws EngineFailure when the engine could not answer
     */
    public function decide(string $requestJson): string
    {
        if ($this->ffi !== null) {
            return $this->callLibrary('opsync_decide', $requestJson);
        }
        return $this->runCommand('decide', $requestJson);
    }

    /**
     * decide() on arrays, for PHP callers.
     *
     * @param array<string, mixed> $request
     * @return array<string, mixed>
     */
    public function decideArray(array $request): array
    {
        $json = json_encode($request, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        return json_decode($this->decide($json), true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * The report email for a run: `{response, dry_run?, send_empty?, failures?}` in,
     * `{send, subject, text, html}` out.
     *
     * @throws InvalidRequest when the input is invalid
     * @throws EngineFailure when the engine could not answer
     */
    public function renderReport(string $inputJson): string
    {
        if ($this->ffi !== null) {
            return $this->callLibrary('opsync_render_report', $inputJson);
        }
        return $this->runCommand('render-report', $inputJson);
    }

    /**
     * The names Openprovider knows domains by, for names as WHMCS holds them: lower case,
     * no trailing dot, IDN labels in punycode; null for a name that is no usable domain
     * name. The form the engine pairs in, so hosts look names up in it.
     *
     * @param list<string> $names
     * @return list<?string>
     */
    public function lookupNames(array $names): array
    {
        $input = json_encode(array_values($names), JSON_THROW_ON_ERROR | JSON_UNESCAPED_UNICODE);
        $answer = $this->ffi !== null
            ? $this->callLibrary('opsync_lookup_names', $input)
            : $this->runCommand('lookup-names', $input);
        return json_decode($answer, true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * The settings as a run reads them: `{settings, options?}` in (the raw settings a run
     * starts from), the policy, the batch, the API address and every setting with its
     * value and source out.
     *
     * @throws InvalidRequest when a setting cannot be used (the message names it)
     */
    public function settings(string $inputJson): string
    {
        if ($this->ffi !== null) {
            return $this->callLibrary('opsync_settings', $inputJson);
        }
        return $this->runCommand('settings', $inputJson);
    }

    /**
     * Starts a run of the run protocol from its start (JSON): in an instance of its own
     * through FFI, else in an `opsync engine-run` process of its own.
     *
     * @throws InvalidRequest when the start is no start
     * @throws EngineUnavailable when neither can run
     */
    public function startRun(string $startJson): EngineRun
    {
        $ffi = $this->ffi;
        if ($ffi === null) {
            return EngineRun::command((string) $this->binary, $startJson);
        }
        $handle = $ffi->new('uint64_t');
        $out = $ffi->new('uint8_t*');
        $len = $ffi->new('size_t');
        $status = $ffi->opsync_run_start($startJson, \strlen($startJson), FFI::addr($handle), FFI::addr($out), FFI::addr($len));
        $first = self::taken($ffi, $status, $out, $len);
        return EngineRun::ffi($ffi, (int) $handle->cdata, $first);
    }

    /** The engine's name and version, e.g. `opsync-engine 0.1.0`. */
    public function version(): string
    {
        if ($this->ffi !== null) {
            $out = $this->ffi->new('uint8_t*');
            $len = $this->ffi->new('size_t');
            $status = $this->ffi->opsync_version(FFI::addr($out), FFI::addr($len));
            return $this->take($status, $out, $len);
        }
        return $this->runCommand('version', '');
    }

    public static function locateLibrary(): ?string
    {
        $candidates = [
            self::env('OPSYNC_PHP_LIB'),
            __DIR__ . '/../lib/libopsync_php.so',
            __DIR__ . '/../../target/release/libopsync_php.so',
            __DIR__ . '/../../target/debug/libopsync_php.so',
        ];
        foreach ($candidates as $candidate) {
            if ($candidate !== null && is_file($candidate)) {
                return $candidate;
            }
        }
        return null;
    }

    private static function loadLibrary(?string $library): FFI
    {
        if (!extension_loaded('ffi')) {
            throw new EngineUnavailable('the PHP FFI extension is not loaded');
        }
        if ($library === null) {
            throw new EngineUnavailable('libopsync_php.so not found (set OPSYNC_PHP_LIB)');
        }
        if (!is_file($library)) {
            throw new EngineUnavailable("the opsync library $library does not exist");
        }
        // Preloaded for a web server (preload.php, opcache.preload): the scope it declared.
        try {
            return FFI::scope(self::FFI_SCOPE);
        } catch (\Throwable) {
            // Not preloaded: load it here, where PHP's ffi.enable allows it.
        }
        $header = file_get_contents(__DIR__ . '/../include/opsync.h');
        try {
            return FFI::cdef((string) $header, $library);
        } catch (\Throwable $e) {
            if (ini_get('ffi.enable') === 'preload' && PHP_SAPI === 'cgi-fcgi' && !isset($_SERVER['REQUEST_METHOD'])) {
                throw new EngineUnavailable('FFI is off for php-cgi (ffi.enable=preload allows it for php only): run the '
                    . 'cron with php, or with php-cgi -d ffi.enable=1');
            }
            if (ini_get('ffi.enable') === 'preload' && PHP_SAPI !== 'cli') {
                throw new EngineUnavailable('FFI is off for this web server (ffi.enable=preload allows it on the command '
                    . 'line, and here only for the preloaded engine: see preload.php)');
            }
            throw new EngineUnavailable('FFI cannot load the opsync library: ' . $e->getMessage());
        }
    }

    private function callLibrary(string $function, string $input): string
    {
        $ffi = $this->ffi;
        \assert($ffi !== null);
        $out = $ffi->new('uint8_t*');
        $len = $ffi->new('size_t');
        $status = $ffi->$function($input, strlen($input), FFI::addr($out), FFI::addr($len));
        return $this->take($status, $out, $len);
    }

    /** Copies the library's answer into PHP, frees it, and throws for an error status. */
    private function take(int $status, FFI\CData $out, FFI\CData $len): string
    {
        $ffi = $this->ffi;
        \assert($ffi !== null);
        return self::taken($ffi, $status, $out, $len);
    }

    /** @internal {@see take()}, for EngineRun too */
    public static function taken(FFI $ffi, int $status, FFI\CData $out, FFI\CData $len): string
    {
        $size = (int) $len->cdata;
        $bytes = $size > 0 ? FFI::string($out, $size) : '';
        $ffi->opsync_free($out, $size);
        if ($status === self::OK) {
            return $bytes;
        }
        if ($status === self::INVALID) {
            throw new InvalidRequest($bytes);
        }
        throw new EngineFailure($bytes);
    }

    /** Runs `opsync VERB` with `$input` on its standard input; its answer, or the error. */
    private function runCommand(string $verb, string $input): string
    {
        $proc = $this->run([(string) $this->binary, $verb], $input);
        $stderr = trim($proc['stderr']);
        $message = str_starts_with($stderr, 'opsync: ') ? substr($stderr, strlen('opsync: ')) : $stderr;
        if ($proc['status'] === 0) {
            // The command ends its answer with a newline; the answer itself has none.
            return str_ends_with($proc['stdout'], "\n") ? substr($proc['stdout'], 0, -1) : $proc['stdout'];
        }
        if ($proc['status'] === self::EXIT_INVALID) {
            throw new InvalidRequest($message);
        }
        throw new EngineFailure($message !== '' ? $message : "opsync $verb exited with status {$proc['status']}");
    }

    /**
     * @param list<string> $command
     * @return array{status: int, stdout: string, stderr: string}
     */
    private function run(array $command, string $stdin): array
    {
        $pipes = [];
        $proc = proc_open($command, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        if (!\is_resource($proc)) {
            throw new EngineUnavailable('cannot start ' . $command[0]);
        }
        // opsync reads all of its input before it writes, so this order cannot deadlock.
        fwrite($pipes[0], $stdin);
        fclose($pipes[0]);
        $stdout = (string) stream_get_contents($pipes[1]);
        $stderr = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return ['status' => proc_close($proc), 'stdout' => $stdout, 'stderr' => $stderr];
    }

    private static function env(string $name): ?string
    {
        $value = getenv($name);
        return $value === false || $value === '' ? null : $value;
    }

    private static function onPath(string $name): ?string
    {
        foreach (explode(PATH_SEPARATOR, (string) getenv('PATH')) as $dir) {
            if ($dir !== '' && is_executable("$dir/$name")) {
                return "$dir/$name";
            }
        }
        return null;
    }
}
