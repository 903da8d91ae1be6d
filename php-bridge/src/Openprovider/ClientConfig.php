<?php

declare(strict_types=1);

namespace Opsync\Openprovider;

/** Where and how the client calls Openprovider: the native client's defaults. */
final class ClientConfig
{
    /**
     * @param string $baseUrl e.g. `https://api.openprovider.eu/v1beta`
     * @param ?string $tokenCache where the token is kept between runs (mode 0600); null: log in every run
     */
    public function __construct(
        public readonly string $baseUrl,
        public readonly string $username,
        public readonly string $password,
        public readonly ?string $tokenCache = null,
        public readonly int $concurrency = 8,
        public readonly int $pageSize = 500,
        public readonly float $timeoutSeconds = 30.0,
        public readonly RetryPolicy $retry = new RetryPolicy(),
    ) {
        if ($concurrency < 1 || $pageSize < 1 || $pageSize > 1000) {
            throw new \InvalidArgumentException('concurrency must be at least 1 and the page size from 1 to 1000');
        }
    }

    /** What var_dump and print_r show: never the password. */
    public function __debugInfo(): array
    {
        return ['baseUrl' => $this->baseUrl, 'username' => $this->username, 'password' => '***'];
    }
}
