<?php

declare(strict_types=1);

namespace Opsync;

use FFI;

/**
 * One run of the engine's run protocol, in an engine.wasm instance of its own (through
 * the FFI library's handle). The run's state lives in the engine; this object only
 * passes the start, each input and the answers' bytes, and lets the run go with it.
 */
final class EngineRun
{
    private bool $freed = false;

    /** @internal built by Engine::startRun() */
    public function __construct(
        private readonly FFI $ffi,
        private readonly int $handle,
        private ?string $first,
    ) {
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
        $out = $this->ffi->new('uint8_t*');
        $len = $this->ffi->new('size_t');
        $status = $this->ffi->opsync_run_feed($this->handle, $header, \strlen($header), $body, \strlen($body), FFI::addr($out), FFI::addr($len));
        return Engine::taken($this->ffi, $status, $out, $len);
    }

    public function __destruct()
    {
        if (!$this->freed) {
            $this->freed = true;
            $this->ffi->opsync_run_free($this->handle);
        }
    }
}
