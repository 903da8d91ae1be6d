<?php

/**
 * opsync: the WHMCS addon module. Its settings page (Setup > Addon Modules > opsync)
 * holds the sync policy; its admin page (Addons > opsync) shows the last runs and has
 * "Plan" and "Sync". The engine and the PHP classes live beside this file, outside the
 * Openprovider module, which a module update replaces.
 *
 * WHMCS parses this file whenever it lists its addon modules, so it keeps to what PHP 7.2
 * understands: on a PHP older than opsync needs, the Addon Modules page still works and
 * opsync says in one line what it needs.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/** Why opsync cannot run on this PHP, or null. */
function opsync_php_problem()
{
    if (PHP_VERSION_ID < 80100) {
        return 'opsync needs PHP 8.1 or later (WHMCS 8.6 or later); this WHMCS runs PHP ' . PHP_VERSION
            . '. Nothing of opsync runs until PHP is upgraded.';
    }
    return null;
}

if (opsync_php_problem() === null) {
    require_once __DIR__ . '/src/autoload.php';
}

/** @return array<string, mixed> */
function opsync_config()
{
    $problem = opsync_php_problem();
    if ($problem !== null) {
        return array('name' => 'opsync', 'description' => $problem, 'version' => '0.2.0', 'author' => 'opsync', 'fields' => array());
    }
    return \Opsync\Whmcs\Addon::config();
}

/** @return array{status: string, description: string} */
function opsync_activate()
{
    $problem = opsync_php_problem();
    if ($problem !== null) {
        return array('status' => 'error', 'description' => $problem);
    }
    return \Opsync\Whmcs\Addon::activate(new \Opsync\Whmcs\WhmcsHost());
}

/** @param array<string, mixed> $vars WHMCS's (`version`: the version before) */
function opsync_upgrade($vars)
{
    if (opsync_php_problem() === null) {
        \Opsync\Whmcs\Addon::upgrade(new \Opsync\Whmcs\WhmcsHost());
    }
}

/** @return array{status: string, description: string} */
function opsync_deactivate()
{
    if (opsync_php_problem() !== null) {
        return array('status' => 'success', 'description' => 'opsync is off.');
    }
    return \Opsync\Whmcs\Addon::deactivate();
}

/** @param array<string, mixed> $vars */
function opsync_output($vars)
{
    $problem = opsync_php_problem();
    if ($problem !== null) {
        echo '<div class="alert alert-danger">' . htmlspecialchars($problem) . '</div>';
        return;
    }
    echo \Opsync\Whmcs\Addon::output(new \Opsync\Whmcs\WhmcsHost(), (array) $vars, $_POST, $_GET);
}
