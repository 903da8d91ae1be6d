<?php

declare(strict_types=1);

namespace Opsync\Openprovider;

use Opsync\OpsyncException;

/**
 * Why an Openprovider call failed. Messages name what went wrong, never a credential, and
 * read exactly as the native client's, so both hosts report the same words.
 */
final class ApiError extends OpsyncException
{
    public const BUSINESS = 'business';
    public const LOGIN = 'login';
    public const BLOCKED = 'blocked';
    public const UNAVAILABLE = 'unavailable';

    private function __construct(public readonly string $kind, string $message, private readonly ?int $apiCode)
    {
        parent::__construct($message);
    }

    public static function business(int $code, string $desc): self
    {
        return new self(self::BUSINESS, "Openprovider refused the request (code $code: $desc)", $code);
    }

    public static function login(): self
    {
        return new self(self::LOGIN, 'Openprovider rejected the username or password (code 196)', 196);
    }

    public static function blocked(): self
    {
        return new self(
            self::BLOCKED,
            'Openprovider has blocked this IP address (code 10005); opsync stopped calling it. '
            . 'The block stays until Openprovider support lifts it',
            10005
        );
    }

    public static function unavailable(int $attempts, string $last): self
    {
        return new self(self::UNAVAILABLE, "Openprovider could not be reached ($attempts attempts; last: $last)", null);
    }

    /** The envelope code behind the failure, if there was one. */
    public function apiCode(): ?int
    {
        return $this->apiCode;
    }
}
