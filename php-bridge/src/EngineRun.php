<?php

declare(strict_types=1);

namespace Opsync;

use FFI;

/**
 * One run of the engine's run protocol. Through the FFI library it lives in an
 * engine.wasm instance of its own (a handle); without FFI, in an `opsync engine-run`
 * process of its own, fed over its standard input. Either way the run's state lives in
 * the engine; this object only passes the start, each input and the answers' bytes, and
 * lets the run go with it.
 */
final class EngineRun
{
    private bool $freed = false;

    /** @var ?resource the `opsync engine-run` process */
    private $process = null;

    /** @var array<int, resource> its pipes */
    private array $pipes = [];

    private ?string $first = null;

    private function __construct(private readonly ?FFI $ffi, private readonly int $handle = 0)
    {
    }

    /** @internal a run through the FFI library (Engine::startRun) */
    public static function ffi(FFI $ffi, int $handle, string $first): self
    {
        $run = new self($ffi, $handle);
        $run->first = $first;
        return $run;
    }

    /**
     * @internal a run through `opsync engine-run` (Engine::startRun without FFI)
     * @throws EngineUnavailable when the command cannot be started
     * @throws InvalidRequest when the start is no start
     */
    public static function command(string $binary, string $start): self
    {
        if (!\function_exists('proc_open')) {
            throw new EngineUnavailable('proc_open is disabled here, and FFI is off: the opsync command cannot run');
        }
        $run = new self(null);
        $pipes = [];
        $process = proc_open([$binary, 'engine-run'], [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        if (!\is_resource($process)) {
            throw new EngineUnavailable("cannot start $binary");
        }
        $run->process = $process;
        $run->pipes = $pipes;
        fwrite($pipes[0], str_replace(["\r", "\n"], ' ', $start) . "\n");
        $run->first = $run->answer();
        return $run;
    }

    /** The first outputs (JSON), once. */
    public function first(): ?string
    {
        $first = $this->first;
        $this->first = null;
        return $first;
    }

    /**
     * One input's header (JSON) and the answer's bytes in, the next outputs (JSON) out.
     *
     * @throws InvalidRequest when the run refuses the input (it goes on)
     * @throws EngineFailure when the engine could not answer (the run is over)
     */
    public function feed(string $header, string $body): string
    {
        if ($this->ffi === null) {
            fwrite($this->pipes[0], str_replace(["\r", "\n"], ' ', $header) . "\n" . \strlen($body) . "\n" . $body);
            return $this->answer();
        }
        $out = $this->ffi->new('uint8_t*');
        $len = $this->ffi->new('size_t');
        $status = $this->ffi->opsync_run_feed($this->handle, $header, \strlen($header), $body, \strlen($body), FFI::addr($out), FFI::addr($len));
        return Engine::taken($this->ffi, $status, $out, $len);
    }

    /** The command's next line: outputs, or the refusal of an input. */
    private function answer(): string
    {
        $line = fgets($this->pipes[1]);
        if ($line === false) {
            $why = trim((string) stream_get_contents($this->pipes[2]));
            throw new EngineFailure($why !== '' ? preg_replace('/\Aopsync: /', '', $why) ?? $why : 'opsync engine-run ended without an answer');
        }
        $line = rtrim($line, "\n");
        if (str_starts_with($line, 'ERROR ')) {
            throw new InvalidRequest(substr($line, 6));
        }
        return $line;
    }

    public function __destruct()
    {
        if ($this->freed) {
            return;
        }
        $this->freed = true;
        if ($this->ffi !== null) {
            $this->ffi->opsync_run_free($this->handle);
            return;
        }
        foreach ($this->pipes as $pipe) {
            @fclose($pipe);
        }
        if (\is_resource($this->process)) {
            proc_close($this->process);
        }
    }
}
