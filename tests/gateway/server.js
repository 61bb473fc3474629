#!/usr/bin/env node
/**
 * qunbot test gateway: a Wechaty puppet-service (gRPC, TLS off) backed by
 * wechaty-puppet-mock, plus a small HTTP/JSON control endpoint that tests use to
 * drive the fake WeChat world and inspect what the bot did. No WeChat account.
 *
 *   node server.js --grpc-port 8788 --control-port 8789 --token insecure_test_token --data /tmp/gw
 *   (or env GATEWAY_GRPC_PORT, GATEWAY_CONTROL_PORT, GATEWAY_TOKEN, GATEWAY_DATA_DIR; port 0 = pick a free one)
 *
 * Prints `READY grpc=PORT control=PORT` on stdout once both listen. See README.md for the control API.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import { FileBox } from 'file-box'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

// ---------------------------------------------------------------- config

function arg (name) {
  const i = process.argv.indexOf('--' + name)
  return i > 0 ? process.argv[i + 1] : undefined
}
const cfg = {
  grpcPort: Number(arg('grpc-port') ?? process.env.GATEWAY_GRPC_PORT ?? 8788),
  controlPort: Number(arg('control-port') ?? process.env.GATEWAY_CONTROL_PORT ?? 8789),
  token: arg('token') ?? process.env.GATEWAY_TOKEN ?? process.env.WECHATY_PUPPET_SERVICE_TOKEN ?? 'insecure_test_token',
  dataDir: path.resolve(arg('data') ?? process.env.GATEWAY_DATA_DIR ?? path.join(os.tmpdir(), 'qunbot-gateway')),
  heartbeatMs: Number(process.env.GATEWAY_HEARTBEAT_MS ?? 15000),
}
fs.mkdirSync(path.join(cfg.dataDir, 'sent'), { recursive: true })

// puppet message types (wechaty-puppet numbering; this is what goes on the wire)
const T = { Unknown: 0, Attachment: 1, Audio: 2, Contact: 3, Emoticon: 5, Image: 6, Text: 7, MiniProgram: 9, RedEnvelope: 12, Url: 14, Video: 15 }
const DIRTY = { Contact: 2, Room: 3, RoomMember: 4 }

// ---------------------------------------------------------------- the world

const BOT_ID = 'qunbot_self'
const WORLD = {
  contacts: [
    { id: BOT_ID, name: '群管机器人' },
    { id: 'wxid_alice', name: 'Alice' },
    { id: 'wxid_bob', name: '老王' },
    { id: 'wxid_carol', name: '小红' },
    { id: 'wxid_dave', name: 'Dave' },
    { id: 'wxid_eve', name: '广告哥' },
  ],
  rooms: [
    // the bot owns room1 (so it may kick); in room2 it is a plain member (kicks fail)
    { id: 'room1@chatroom', topic: '运营测试群', ownerId: BOT_ID, adminIdList: [BOT_ID],
      memberIdList: [BOT_ID, 'wxid_alice', 'wxid_bob', 'wxid_carol', 'wxid_dave'] },
    { id: 'room2@chatroom', topic: '闲聊群', ownerId: 'wxid_alice', adminIdList: [],
      memberIdList: [BOT_ID, 'wxid_alice', 'wxid_eve'] },
  ],
}

const state = {
  sent: [], // everything the bot sent
  calls: [], // notable puppet calls
  aliases: new Map(), // roomId -> Map(memberId -> roomAlias)
  announcements: new Map(), // roomId -> text
  files: new Map(), // messageId -> { name, buffer }
  extras: new Map(), // messageId -> url / mini program payload, or { contactId }
  unreadable: new Set(), // `${roomId} ${contactId}`: roomMemberPayload fails (POST /room's `unreadable`)
  bootId: Date.now().toString(36),
  seq: 0,
}
const now = () => Date.now()
const logCall = (method, args) => state.calls.push({ ts: now(), method, args })
const sha256 = buf => crypto.createHash('sha256').update(buf).digest('hex')

const mocker = new mock.Mocker()

function contactPayload (id, name) {
  return { id, name: name || id, alias: '', avatar: '', gender: 0, type: 1, friend: true,
    phone: [], address: '', city: '', province: '', signature: '', star: false, weixin: id }
}
function ensureContact (id, name) {
  if (!mocker.cacheContactPayload.has(id)) mocker.ContactMock.create(contactPayload(id, name))
  return mocker.ContactMock.load(id)
}
function ensureRoom ({ id, topic, ownerId = '', adminIdList = [], memberIdList = [] }) {
  if (!mocker.cacheRoomPayload.has(id)) {
    try {
      mocker.RoomMock.create({ id, topic, ownerId, adminIdList, memberIdList: [...memberIdList], avatar: '' })
    } catch { // created before, then hidden by a reset: show it again
      const room = mocker.RoomMock.load(id)
      Object.assign(room.payload, { topic, ownerId, adminIdList: [...adminIdList], memberIdList: [...memberIdList] })
      mocker.roomPayload(id, room.payload)
    }
  }
  return mocker.RoomMock.load(id)
}
/** Create what is missing; with restore=true also put every room back as in WORLD. */
async function applyWorld (restore) {
  for (const c of WORLD.contacts) ensureContact(c.id, c.name)
  const known = new Set(WORLD.rooms.map(r => r.id))
  for (const r of WORLD.rooms) {
    const room = ensureRoom(r)
    if (restore) Object.assign(room.payload, { topic: r.topic, ownerId: r.ownerId, adminIdList: [...r.adminIdList], memberIdList: [...r.memberIdList] })
  }
  if (!restore) return
  state.aliases.clear()
  state.announcements.clear()
  state.unreadable.clear()
  for (const id of [...mocker.cacheRoomPayload.keys()]) {
    if (!known.has(id)) mocker.cacheRoomPayload.delete(id) // rooms made by POST /room
  }
  if (puppet.isLoggedIn) {
    for (const id of mocker.cacheRoomPayload.keys()) {
      await puppet.__dirtyPayloadAwait(DIRTY.Room, id)
      await puppet.__dirtyPayloadAwait(DIRTY.RoomMember, id)
    }
  }
}

function room (id) {
  if (!mocker.cacheRoomPayload.has(id)) throw httpError(404, `unknown room ${id}`)
  return mocker.RoomMock.load(id)
}
function contact (id) {
  if (!mocker.cacheContactPayload.has(id)) throw httpError(404, `unknown contact ${id}`)
  return mocker.ContactMock.load(id)
}

/** Create a message in the mock and emit the `message` event (what a real puppet does). */
function injectMessage ({ talkerId, roomId, listenerId, type, text = '', mentionIdList = [], filename }) {
  const id = `msg-${state.bootId}-${++state.seq}`
  const payload = { id, talkerId, type, text, timestamp: now() }
  if (roomId) Object.assign(payload, { roomId, mentionIdList })
  else payload.listenerId = listenerId
  if (filename) payload.filename = filename
  mocker.MessageMock.create(payload)
  puppet.emit('message', { messageId: id })
  return id
}

// ---------------------------------------------------------------- the puppet (mock + patched gaps)

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp', '.bmp'])
function fileType (name, mediaType = '') {
  const ext = path.extname(name || '').toLowerCase()
  if (IMAGE_EXT.has(ext) || mediaType.startsWith('image/')) return T.Image
  if (ext === '.mp4' || mediaType.startsWith('video/')) return T.Video
  return T.Attachment
}

class GatewayPuppet extends PuppetMock {
  conversation (conversationId) {
    if (!this.isLoggedIn) throw new Error('not logged in')
    return conversationId.includes('@')
      ? { roomId: room(conversationId).id, room: conversationId, to: null }
      : { listenerId: contact(conversationId).id, room: null, to: conversationId }
  }

  sendAndRecord (conversationId, type, text, extra = {}, mentionIdList = []) {
    const conv = this.conversation(conversationId)
    const id = injectMessage({ talkerId: this.currentUserId, roomId: conv.roomId, listenerId: conv.listenerId, type, text, mentionIdList, filename: extra.file?.name })
    state.sent.push({ id, type, room: conv.room, to: conv.to, text, mentions: mentionIdList, ts: now(), ...extra })
    return id
  }

  async messageSendText (conversationId, text, mentionIdList = []) {
    logCall('messageSendText', { conversationId, text, mentionIdList })
    return this.sendAndRecord(conversationId, T.Text, text, {}, mentionIdList || [])
  }

  async messageSendFile (conversationId, fileBox) {
    const buffer = await fileBox.toBuffer()
    const name = fileBox.name
    logCall('messageSendFile', { conversationId, name, size: buffer.length })
    const type = fileType(name, fileBox.mediaType)
    const id = this.sendAndRecord(conversationId, type, '', {
      file: { name, size: buffer.length, sha256: sha256(buffer), base64: buffer.toString('base64') },
    })
    const saved = path.join(cfg.dataDir, 'sent', `${id}-${path.basename(name)}`)
    fs.writeFileSync(saved, buffer)
    state.sent.at(-1).file.path = saved
    state.files.set(id, { name, buffer })
    return id
  }

  async messageSendUrl (conversationId, urlLinkPayload) {
    logCall('messageSendUrl', { conversationId, urlLinkPayload })
    const id = this.sendAndRecord(conversationId, T.Url, urlLinkPayload.title || '', { url: urlLinkPayload })
    state.extras.set(id, urlLinkPayload)
    return id
  }

  async messageSendMiniProgram (conversationId, miniProgramPayload) {
    logCall('messageSendMiniProgram', { conversationId, miniProgramPayload })
    const id = this.sendAndRecord(conversationId, T.MiniProgram, miniProgramPayload.title || '', { miniProgram: miniProgramPayload })
    state.extras.set(id, miniProgramPayload)
    return id
  }

  async messageSendContact (conversationId, contactId) {
    logCall('messageSendContact', { conversationId, contactId })
    const id = this.sendAndRecord(conversationId, T.Contact, '', { contactId })
    state.extras.set(id, { contactId })
    return id
  }

  async messageRecall (messageId) {
    logCall('messageRecall', { messageId })
    const sent = state.sent.find(s => s.id === messageId)
    if (!sent) return false // only the bot's own messages can be recalled
    sent.recalled = true
    return true
  }

  // real bytes for injected / sent files, instead of the mock's fake QR code
  async messageImage (messageId, imageType) {
    logCall('messageImage', { messageId, imageType })
    return this.fileOf(messageId)
  }

  async messageFile (messageId) {
    logCall('messageFile', { messageId })
    return this.fileOf(messageId)
  }

  fileOf (messageId) {
    const f = state.files.get(messageId)
    if (!f) throw new Error(`no file for message ${messageId}`)
    return FileBox.fromBase64(f.buffer.toString('base64'), f.name)
  }

  async messageUrl (messageId) {
    const p = state.extras.get(messageId)
    return p?.url ? p : super.messageUrl(messageId)
  }

  async messageMiniProgram (messageId) {
    const p = state.extras.get(messageId)
    return p?.appid || p?.title ? p : super.messageMiniProgram(messageId)
  }

  async messageContact (messageId) {
    return state.extras.get(messageId)?.contactId || super.messageContact(messageId)
  }

  // --- rooms

  async roomDel (roomId, contactId) {
    logCall('roomDel', { roomId, contactId })
    const r = room(roomId).payload
    if (r.ownerId !== this.currentUserId && !r.adminIdList.includes(this.currentUserId)) {
      throw new Error(`bot is not owner/admin of ${roomId}`)
    }
    if (!r.memberIdList.includes(contactId)) throw new Error(`${contactId} is not in ${roomId}`)
    await roomLeave(roomId, [contactId], this.currentUserId)
  }

  async roomAdd (roomId, contactId) {
    logCall('roomAdd', { roomId, contactId })
    await roomJoin(roomId, [contactId], this.currentUserId)
  }

  async roomTopic (roomId, topic) {
    if (typeof topic === 'undefined') return room(roomId).payload.topic
    logCall('roomTopic', { roomId, topic })
    await roomTopic(roomId, topic, this.currentUserId)
  }

  async roomQuit (roomId) {
    logCall('roomQuit', { roomId })
    await roomLeave(roomId, [this.currentUserId], this.currentUserId)
  }

  async roomAnnounce (roomId, text) {
    if (text === undefined) return state.announcements.get(roomId) || ''
    logCall('roomAnnounce', { roomId, text })
    state.announcements.set(roomId, text)
  }

  async roomMemberRawPayload (roomId, contactId) {
    if (!room(roomId).payload.memberIdList.includes(contactId)) throw new Error(`${contactId} is not in ${roomId}`)
    if (state.unreadable.has(`${roomId} ${contactId}`)) throw new Error(`the payload of ${contactId} in ${roomId} is unavailable`)
    const c = mocker.contactPayload(contactId)
    return { id: contactId, name: c.name, avatar: c.avatar || '', roomAlias: state.aliases.get(roomId)?.get(contactId) || '' }
  }
}

// room changes: mutate the mock payload, drop the puppet's cached copy, then emit the event
async function dirtyRoom (roomId) {
  if (!puppet.isLoggedIn) return
  await puppet.__dirtyPayloadAwait(DIRTY.Room, roomId)
  await puppet.__dirtyPayloadAwait(DIRTY.RoomMember, roomId)
}
async function roomJoin (roomId, ids, inviterId) {
  const r = room(roomId).payload
  for (const id of ids) if (!r.memberIdList.includes(id)) r.memberIdList.push(id)
  await dirtyRoom(roomId)
  puppet.emit('room-join', { roomId, inviteeIdList: ids, inviterId, timestamp: now() })
}
async function roomLeave (roomId, ids, removerId) {
  const r = room(roomId).payload
  r.memberIdList = r.memberIdList.filter(id => !ids.includes(id))
  for (const id of ids) state.aliases.get(roomId)?.delete(id)
  await dirtyRoom(roomId)
  puppet.emit('room-leave', { roomId, removeeIdList: ids, removerId, timestamp: now() })
}
async function roomTopic (roomId, topic, changerId) {
  const r = room(roomId).payload
  const oldTopic = r.topic
  r.topic = topic
  await dirtyRoom(roomId)
  puppet.emit('room-topic', { roomId, newTopic: topic, oldTopic, changerId, timestamp: now() })
}

const puppet = new GatewayPuppet({ mocker })
puppet.setMaxListeners(100) // each POST /drop makes a new PuppetServer, which adds a few listeners

// Runs on every puppet start (each time a client calls start() after a stop): must be repeatable.
mocker.use(function qunbotWorld () {
  applyWorld(false)
  if (!puppet.isLoggedIn) mocker.login(mocker.ContactMock.load(BOT_ID))
  setImmediate(() => puppet.emit('ready', { data: 'ready' }))
  const timer = setInterval(() => puppet.isLoggedIn && puppet.emit('heartbeat', { data: 'gateway heartbeat' }), cfg.heartbeatMs)
  return () => clearInterval(timer)
})

// ---------------------------------------------------------------- gRPC puppet service

let grpcServer
async function startGrpc () {
  grpcServer = new PuppetServer({ endpoint: `127.0.0.1:${cfg.grpcPort}`, puppet, token: cfg.token, tls: { disable: true } })
  await grpcServer.start()
}
/** Close every client connection (the event stream included) and listen again on the same port. */
async function dropClients () {
  await grpcServer.stop()
  await startGrpc()
}

// ---------------------------------------------------------------- HTTP control endpoint

function httpError (status, message) {
  return Object.assign(new Error(message), { status })
}
function need (body, ...keys) {
  for (const k of keys) if (body[k] === undefined || body[k] === '') throw httpError(400, `missing "${k}"`)
}
function readInput (p) {
  const file = path.isAbsolute(p) ? p : path.join(cfg.dataDir, p)
  if (!fs.existsSync(file)) throw httpError(400, `no such file ${file}`)
  return { buffer: fs.readFileSync(file), name: path.basename(file) }
}
function inRoomMessage (body, type, text, extra = {}) {
  need(body, 'from', 'room')
  contact(body.from); room(body.room)
  return injectMessage({ talkerId: body.from, roomId: body.room, type, text, ...extra })
}
const asMemberList = members => (members || []).map(m => (typeof m === 'string' ? { id: m } : m))

const routes = {
  'GET /health': () => ({ ok: true, loggedIn: puppet.isLoggedIn, bot: BOT_ID, messageListeners: puppet.listenerCount('message') }),
  'GET /world': () => ({
    bot: BOT_ID,
    contacts: [...mocker.cacheContactPayload.values()].map(c => ({ id: c.id, name: c.name })),
    rooms: [...mocker.cacheRoomPayload.values()].map(r => ({
      id: r.id, topic: r.topic, ownerId: r.ownerId, adminIdList: r.adminIdList, memberIdList: r.memberIdList,
      aliases: Object.fromEntries(state.aliases.get(r.id) || []),
    })),
  }),
  'GET /members': (_, q) => ({ room: q.get('room'), members: [...room(q.get('room')).payload.memberIdList] }),
  'GET /sent': () => state.sent,
  'GET /calls': () => state.calls,

  'POST /say': body => {
    need(body, 'from', 'text')
    contact(body.from)
    if (body.room) {
      room(body.room)
      return { id: injectMessage({ talkerId: body.from, roomId: body.room, type: T.Text, text: body.text, mentionIdList: body.mentions || [] }) }
    }
    const to = body.to || BOT_ID
    contact(to)
    return { id: injectMessage({ talkerId: body.from, listenerId: to, type: T.Text, text: body.text }) }
  },
  'POST /image': body => {
    need(body, 'path')
    const { buffer, name } = readInput(body.path)
    const id = inRoomMessage(body, T.Image, '', { filename: name })
    state.files.set(id, { name, buffer })
    return { id }
  },
  'POST /file': body => {
    need(body, 'path')
    const { buffer, name } = readInput(body.path)
    const id = inRoomMessage(body, body.type ?? fileType(name), '', { filename: name })
    state.files.set(id, { name, buffer })
    return { id }
  },
  'POST /url': body => {
    need(body, 'url')
    const payload = { url: body.url, title: body.title || body.url, description: body.description || '', thumbnailUrl: body.thumbnailUrl || '' }
    const id = inRoomMessage(body, T.Url, payload.title)
    state.extras.set(id, payload)
    return { id }
  },
  'POST /mini_program': body => {
    const payload = { title: body.title || '小程序', appid: body.appid || body.app || 'wx_mock_app', username: body.username || body.app || '',
      description: body.description || body.app || '', pagePath: body.pagePath || '' }
    const id = inRoomMessage(body, T.MiniProgram, payload.title)
    state.extras.set(id, payload)
    return { id }
  },
  'POST /contact_card': body => {
    need(body, 'card_id')
    ensureContact(body.card_id, body.card_name)
    const id = inRoomMessage(body, T.Contact, mocker.contactPayload(body.card_id).name)
    state.extras.set(id, { contactId: body.card_id })
    return { id }
  },
  'POST /red_packet': body => ({ id: inRoomMessage(body, T.RedEnvelope, body.text || '[红包]恭喜发财，大吉大利') }),

  'POST /room': async body => {
    need(body, 'id')
    for (const m of asMemberList(body.members)) ensureContact(m.id, m.name)
    const r = ensureRoom({ id: body.id, topic: body.topic || body.id, ownerId: body.owner ?? BOT_ID, adminIdList: body.admins || [],
      memberIdList: [BOT_ID, ...asMemberList(body.members).map(m => m.id)] })
    for (const id of body.unreadable || []) state.unreadable.add(`${body.id} ${id}`)
    return { id: r.id }
  },
  // the member list changes with no room-join / room-leave event (as when a puppet misses them):
  // only a dirty signal, or nothing at all with `dirty: false`
  'POST /members': async body => {
    need(body, 'room', 'members')
    const r = room(body.room).payload
    const members = asMemberList(body.members)
    for (const m of members) ensureContact(m.id, m.name)
    r.memberIdList = [...new Set([BOT_ID, ...members.map(m => m.id)])]
    if (body.dirty === false) { // the puppet's own cache still forgets the old list; clients hear nothing
      puppet.cache.room.delete(body.room)
      puppet.cache.roomMember.delete(body.room)
    } else {
      await dirtyRoom(body.room)
    }
    return { ok: true, members: r.memberIdList }
  },
  'POST /join': async body => {
    need(body, 'room', 'members')
    room(body.room)
    const members = asMemberList(body.members)
    for (const m of members) ensureContact(m.id, m.name || body.names?.[m.id])
    const inviter = body.inviter || room(body.room).payload.ownerId || BOT_ID
    contact(inviter)
    await roomJoin(body.room, members.map(m => m.id), inviter)
    return { ok: true }
  },
  'POST /leave': async body => {
    need(body, 'room', 'members')
    room(body.room)
    const ids = asMemberList(body.members).map(m => m.id)
    await roomLeave(body.room, ids, body.remover || ids[0])
    return { ok: true }
  },
  'POST /topic': async body => {
    need(body, 'room', 'topic', 'changer')
    contact(body.changer)
    await roomTopic(body.room, body.topic, body.changer)
    return { ok: true }
  },
  'POST /rename': async body => {
    need(body, 'room', 'member')
    if (!room(body.room).payload.memberIdList.includes(body.member)) throw httpError(400, `${body.member} is not in ${body.room}`)
    if (!state.aliases.has(body.room)) state.aliases.set(body.room, new Map())
    state.aliases.get(body.room).set(body.member, body.alias || '')
    await dirtyRoom(body.room)
    return { ok: true }
  },
  'POST /reset': async () => {
    state.sent.length = 0
    state.calls.length = 0
    await applyWorld(true)
    return { ok: true }
  },
  'POST /drop': async () => {
    await dropClients()
    return { ok: true }
  },
}

const control = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x')
  const send = (status, obj) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
    res.end(JSON.stringify(obj))
  }
  try {
    const route = routes[`${req.method} ${url.pathname}`]
    if (!route) throw httpError(404, `no route ${req.method} ${url.pathname}`)
    let raw = ''
    for await (const chunk of req) raw += chunk
    let body
    try { body = raw ? JSON.parse(raw) : {} } catch { throw httpError(400, 'body is not JSON') }
    send(200, await route(body, url.searchParams))
  } catch (e) {
    send(e.status || 500, { error: e.message })
  }
})

// ---------------------------------------------------------------- start

async function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject)
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
  })
}

async function main () {
  await applyWorld(false) // the control API works before any client has started the puppet
  if (!cfg.grpcPort) cfg.grpcPort = await freePort()
  await startGrpc()
  await new Promise((resolve, reject) => control.once('error', reject).listen(cfg.controlPort, '127.0.0.1', resolve))
  cfg.controlPort = control.address().port
  process.stdout.write(`READY grpc=${cfg.grpcPort} control=${cfg.controlPort}\n`)
}

const shutdown = async () => {
  control.close()
  try { await grpcServer?.stop() } finally { process.exit(0) }
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

main().catch(e => {
  console.error('gateway failed to start:', e)
  process.exit(1)
})
