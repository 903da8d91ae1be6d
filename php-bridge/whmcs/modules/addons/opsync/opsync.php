<?php

/**
 * opsync: the WHMCS addon module. Its settings page (Setup > Addon Modules > opsync)
 * holds the sync policy; its admin page (Addons > opsync) shows the last runs and has
 * "Plan" and "Sync now". The engine and the PHP classes live beside this file, outside
 * the Openprovider module, which a module update replaces.
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/src/autoload.php';

use Opsync\Whmcs\Addon;
use Opsync\Whmcs\WhmcsHost;

/** @return array<string, mixed> */
function opsync_config(): array
{
    return Addon::config();
}

/** @return array{status: string, description: string} */
function opsync_activate(): array
{
    return Addon::activate(new WhmcsHost());
}

/** @param array<string, mixed> $vars WHMCS's (`version`: the version before) */
function opsync_upgrade($vars): void
{
    Addon::upgrade(new WhmcsHost());
}

/** @return array{status: string, description: string} */
function opsync_deactivate(): array
{
    return Addon::deactivate();
}

/** @param array<string, mixed> $vars */
function opsync_output($vars): void
{
    echo Addon::output(new WhmcsHost(), (array) $vars, $_POST, $_GET);
}
